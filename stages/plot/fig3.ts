import { plotStage } from '../../src/figures/plot-stage.js';

/** plot@fig3: renders src/figures/fig3.ts from its aggregate tables (see src/figures/plot-stage.ts). */
export default plotStage('fig3', () => import('../../src/figures/fig3.js'));
