import { plotStage } from '../../src/figures/plot-stage.js';

/** plot@figA9: renders src/figures/figA9.ts from its aggregate tables (see src/figures/plot-stage.ts). */
export default plotStage('figA9', () => import('../../src/figures/figA9.js'));
