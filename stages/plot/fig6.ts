import { plotStage } from '../../src/figures/plot-stage.js';

/** plot@fig6: renders src/figures/fig6.ts from its aggregate tables (see src/figures/plot-stage.ts). */
export default plotStage('fig6', () => import('../../src/figures/fig6.js'));
