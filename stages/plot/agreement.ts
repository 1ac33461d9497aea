import { plotStage } from '../../src/figures/plot-stage.js';

/** plot@agreement: renders src/figures/agreement.ts from its aggregate tables (see src/figures/plot-stage.ts). */
export default plotStage('agreement', () => import('../../src/figures/agreement.js'));
