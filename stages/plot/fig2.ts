import { plotStage } from '../../src/figures/plot-stage.js';

/** plot@fig2: renders src/figures/fig2.ts from its aggregate tables (see src/figures/plot-stage.ts). */
export default plotStage('fig2', () => import('../../src/figures/fig2.js'));
