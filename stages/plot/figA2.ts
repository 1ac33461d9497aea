import { plotStage } from '../../src/figures/plot-stage.js';

/** plot@figA2: renders src/figures/figA2.ts from its aggregate tables (see src/figures/plot-stage.ts). */
export default plotStage('figA2', () => import('../../src/figures/figA2.js'));
