/**
 * What a figure module is: aggregated tables of one or more experiments in,
 * one Vega-Lite spec out. A figure module imports only light helpers (no
 * vega, no file system), so the plot stage of one figure fingerprints only
 * that figure's code and its helpers.
 */

export type Row = Record<string, any>;
export type Spec = Record<string, unknown>;

/** The tables an aggregate node wrote (file name without .csv -> rows). */
export interface ExperimentTables {
  experiment: string;
  node: string;
  tables: Record<string, Row[]>;
}

export interface FigureData {
  /** An experiment's tables, or undefined when this run did not produce it. */
  get(experiment: string): ExperimentTables | undefined;
  /** Rows of a table, [] when the experiment or table is absent. */
  rows(experiment: string, table: string): Row[];
}

export interface Figure {
  id: string;
  /** Short title, e.g. "Figure 4". */
  title: string;
  /** The paper's caption (with what this reproduction plots). */
  caption: string;
  /** Aggregate experiments it reads, by the aggregate nodes' `experiment` param. */
  experiments: string[];
  spec(data: FigureData): Spec;
}

export function defineFigure(f: Figure): Figure {
  return f;
}

export function figureData(experiments: ExperimentTables[]): FigureData {
  const by = new Map(experiments.map((e) => [e.experiment, e]));
  return {
    get: (name) => by.get(name),
    rows: (name, table) => by.get(name)?.tables[table] ?? [],
  };
}
