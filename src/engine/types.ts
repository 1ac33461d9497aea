/**
 * Branded primitive types. A node key and an output digest are both hex
 * SHA-256 strings, but mixing them up is a real bug (a key names a
 * computation, a digest names bytes), so the compiler keeps them apart.
 */

export type Brand<T, B extends string> = T & { readonly __brand: B };

/** SHA-256 (hex) of some bytes. */
export type Digest = Brand<string, 'Digest'>;

/** SHA-256 (hex) of the canonical description of a node's computation. */
export type NodeKey = Brand<string, 'NodeKey'>;

/** `stage` or `stage@variant`: the human name of one node of the DAG. */
export type NodeName = Brand<string, 'NodeName'>;

export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

export type JsonObject = { [key: string]: JsonValue };

/** An output file of a node: where it sits in the node's output directory, and its bytes' identity. */
export interface OutputFile {
  digest: Digest;
  size: number;
}

/** Every output file of a node, by path relative to its output directory (POSIX separators). */
export type OutputManifest = Record<string, OutputFile>;

/**
 * Expected failures travel as values (wireit style) so callers must decide
 * what to do with them; exceptions are reserved for bugs.
 */
export type Result<T, E = string> = { ok: true; value: T } | { ok: false; error: E };
