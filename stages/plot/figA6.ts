import { plotStage } from '../../src/figures/plot-stage.js';

/** plot@figA6: renders src/figures/figA6.ts from its aggregate tables (see src/figures/plot-stage.ts). */
export default plotStage('figA6', () => import('../../src/figures/figA6.js'));
