import { plotStage } from '../../src/figures/plot-stage.js';

/** plot@fig1: renders src/figures/fig1.ts from its aggregate tables (see src/figures/plot-stage.ts). */
export default plotStage('fig1', () => import('../../src/figures/fig1.js'));
