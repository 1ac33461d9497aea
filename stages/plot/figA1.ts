import { plotStage } from '../../src/figures/plot-stage.js';

/** plot@figA1: renders src/figures/figA1.ts from its aggregate tables (see src/figures/plot-stage.ts). */
export default plotStage('figA1', () => import('../../src/figures/figA1.js'));
