import { plotStage } from '../../src/figures/plot-stage.js';

/** plot@figA8: renders src/figures/figA8.ts from its aggregate tables (see src/figures/plot-stage.ts). */
export default plotStage('figA8', () => import('../../src/figures/figA8.js'));
