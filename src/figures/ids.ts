/**
 * Every figure of the paper, in the report's order. Only names: importing
 * this list does not import any figure module (see src/figures/plot-stage.ts).
 * Each id has src/figures/<id>.ts and a stage module stages/plot/<id>.ts.
 */
export const FIGURE_IDS = [
  'fig1', 'fig2', 'fig3', 'fig4', 'fig5', 'fig6', 'agreement',
  'figA1', 'figA2', 'figA3', 'figA4', 'figA5', 'figA6', 'figA7', 'figA8', 'figA9',
] as const;
export type FigureId = (typeof FIGURE_IDS)[number];
