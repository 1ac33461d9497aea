/** Public API for stage modules. */
export { defineStage } from './engine/stage.js';
export type { InputRef, ProgressInfo, StageContext, StageDefinition } from './engine/stage.js';
