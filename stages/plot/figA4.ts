import { plotStage } from '../../src/figures/plot-stage.js';

/** plot@figA4: renders src/figures/figA4.ts from its aggregate tables (see src/figures/plot-stage.ts). */
export default plotStage('figA4', () => import('../../src/figures/figA4.js'));
