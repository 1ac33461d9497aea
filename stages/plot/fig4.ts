import { plotStage } from '../../src/figures/plot-stage.js';

/** plot@fig4: renders src/figures/fig4.ts from its aggregate tables (see src/figures/plot-stage.ts). */
export default plotStage('fig4', () => import('../../src/figures/fig4.js'));
