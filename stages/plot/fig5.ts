import { plotStage } from '../../src/figures/plot-stage.js';

/** plot@fig5: renders src/figures/fig5.ts from its aggregate tables (see src/figures/plot-stage.ts). */
export default plotStage('fig5', () => import('../../src/figures/fig5.js'));
