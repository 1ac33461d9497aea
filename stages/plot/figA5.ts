import { plotStage } from '../../src/figures/plot-stage.js';

/** plot@figA5: renders src/figures/figA5.ts from its aggregate tables (see src/figures/plot-stage.ts). */
export default plotStage('figA5', () => import('../../src/figures/figA5.js'));
