import { plotStage } from '../../src/figures/plot-stage.js';

/** plot@figA3: renders src/figures/figA3.ts from its aggregate tables (see src/figures/plot-stage.ts). */
export default plotStage('figA3', () => import('../../src/figures/figA3.js'));
