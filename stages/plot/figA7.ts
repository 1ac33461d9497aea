import { plotStage } from '../../src/figures/plot-stage.js';

/** plot@figA7: renders src/figures/figA7.ts from its aggregate tables (see src/figures/plot-stage.ts). */
export default plotStage('figA7', () => import('../../src/figures/figA7.js'));
