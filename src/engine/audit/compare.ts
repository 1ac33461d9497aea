import { readFileSync } from 'node:fs';
import type { Tolerance } from '../config/schema.js';

/**
 * Compares a re-executed output file with the recorded one. Byte identity
 * is the default; a declared tolerance compares the content instead: CSV
 * cell by cell, JSON value by value, `.npy` element by element, numbers
 * within an absolute tolerance and everything else exactly. Generic file
 * formats only: the engine knows nothing about what the numbers mean.
 */

export type FileVerdictKind = 'identical' | 'within-tolerance' | 'different' | 'missing' | 'extra';

export interface FileVerdict {
  file: string;
  verdict: FileVerdictKind;
  /** Largest absolute difference of a compared number (tolerance comparisons). */
  maxDeviation?: number;
  detail?: string;
}

export function toleranceFor(file: string, tolerances: Tolerance[] | undefined): Tolerance | undefined {
  return tolerances?.find((t) => globToRegExp(t.files).test(file));
}

export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
      if (glob[i + 1] === '/') i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Compares two files' contents under `tolerance`; the caller has already found their digests different. */
export function compareContents(file: string, expectedPath: string, actualPath: string, tolerance: Tolerance): FileVerdict {
  try {
    const result =
      tolerance.format === 'csv'
        ? compareCsv(readFileSync(expectedPath, 'utf8'), readFileSync(actualPath, 'utf8'), tolerance)
        : tolerance.format === 'json'
          ? compareJson(JSON.parse(readFileSync(expectedPath, 'utf8')), JSON.parse(readFileSync(actualPath, 'utf8')), tolerance.abs)
          : compareNpy(readFileSync(expectedPath), readFileSync(actualPath), tolerance.abs);
    if (result.mismatch) return { file, verdict: 'different', maxDeviation: result.max, detail: result.mismatch };
    return { file, verdict: 'within-tolerance', maxDeviation: result.max, detail: `max |difference| ${result.max} <= ${tolerance.abs}` };
  } catch (err) {
    return { file, verdict: 'different', detail: `cannot compare as ${tolerance.format}: ${(err as Error).message}` };
  }
}

interface Outcome {
  max: number;
  mismatch?: string;
}

function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (cell !== '' || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

function compareCsv(expected: string, actual: string, tolerance: Tolerance): Outcome {
  const a = parseCsv(expected);
  const b = parseCsv(actual);
  const header = a[0] ?? [];
  if ((b[0] ?? []).join(',') !== header.join(',')) return { max: 0, mismatch: `header differs: ${header.join(',')} vs ${(b[0] ?? []).join(',')}` };
  if (a.length !== b.length) return { max: 0, mismatch: `${a.length - 1} rows recorded, ${b.length - 1} re-executed` };
  const tolerant = new Set(tolerance.columns ?? header);
  let max = 0;
  for (let r = 1; r < a.length; r++) {
    for (let c = 0; c < header.length; c++) {
      const x = a[r]![c] ?? '';
      const y = b[r]![c] ?? '';
      if (x === y) continue;
      const nx = Number(x);
      const ny = Number(y);
      if (tolerant.has(header[c]!) && x.trim() !== '' && y.trim() !== '' && Number.isFinite(nx) && Number.isFinite(ny)) {
        const d = Math.abs(nx - ny);
        max = Math.max(max, d);
        if (d > tolerance.abs) return { max, mismatch: `row ${r + 1}, column ${header[c]}: ${x} vs ${y} (|difference| ${d} > ${tolerance.abs})` };
      } else {
        return { max, mismatch: `row ${r + 1}, column ${header[c]}: ${JSON.stringify(x)} vs ${JSON.stringify(y)}` };
      }
    }
  }
  return { max };
}

function compareJson(a: unknown, b: unknown, abs: number, path = '$'): Outcome {
  if (typeof a === 'number' && typeof b === 'number') {
    const d = Math.abs(a - b);
    return d <= abs ? { max: d } : { max: d, mismatch: `${path}: ${a} vs ${b} (|difference| ${d} > ${abs})` };
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return { max: 0, mismatch: `${path}: ${a.length} items recorded, ${b.length} re-executed` };
    let max = 0;
    for (let i = 0; i < a.length; i++) {
      const r = compareJson(a[i], b[i], abs, `${path}[${i}]`);
      max = Math.max(max, r.max);
      if (r.mismatch) return { max, mismatch: r.mismatch };
    }
    return { max };
  }
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    let max = 0;
    for (const k of [...keys].sort()) {
      const r = compareJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], abs, `${path}.${k}`);
      max = Math.max(max, r.max);
      if (r.mismatch) return { max, mismatch: r.mismatch };
    }
    return { max };
  }
  return JSON.stringify(a) === JSON.stringify(b) ? { max: 0 } : { max: 0, mismatch: `${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}` };
}

interface Npy {
  dtype: string;
  shape: number[];
  data: Buffer;
}

export function parseNpy(buf: Buffer): Npy {
  if (buf.length < 10 || buf.readUInt8(0) !== 0x93 || buf.toString('latin1', 1, 6) !== 'NUMPY') throw new Error('not an .npy file');
  const major = buf.readUInt8(6);
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + headerLen);
  const dtype = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!dtype || shapeText === undefined) throw new Error('unreadable .npy header');
  if (/'fortran_order':\s*True/.test(header)) throw new Error('Fortran-ordered arrays are not supported');
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  return { dtype, shape, data: buf.subarray(start + headerLen) };
}

function npyValues(a: Npy): ArrayLike<number> {
  const { dtype, data } = a;
  const view = (Ctor: { new (b: ArrayBuffer, o: number, n: number): ArrayLike<number>; BYTES_PER_ELEMENT: number }): ArrayLike<number> => {
    const copy = new Uint8Array(data).buffer;
    return new Ctor(copy, 0, data.length / Ctor.BYTES_PER_ELEMENT);
  };
  switch (dtype) {
    case '<f4':
      return view(Float32Array);
    case '<f8':
      return view(Float64Array);
    case '<i4':
      return view(Int32Array);
    case '<i2':
      return view(Int16Array);
    case '|u1':
    case '<u1':
      return view(Uint8Array);
    case '|i1':
      return view(Int8Array);
    case '<u2':
      return view(Uint16Array);
    case '<u4':
      return view(Uint32Array);
    default:
      throw new Error(`dtype ${dtype} is not supported for tolerance comparisons`);
  }
}

function compareNpy(expected: Buffer, actual: Buffer, abs: number): Outcome {
  const a = parseNpy(expected);
  const b = parseNpy(actual);
  if (a.dtype !== b.dtype) return { max: 0, mismatch: `dtype ${a.dtype} recorded, ${b.dtype} re-executed` };
  if (a.shape.join('x') !== b.shape.join('x')) return { max: 0, mismatch: `shape ${a.shape.join('x')} recorded, ${b.shape.join('x')} re-executed` };
  const x = npyValues(a);
  const y = npyValues(b);
  let max = 0;
  for (let i = 0; i < x.length; i++) {
    const d = Math.abs(x[i]! - y[i]!);
    if (Number.isNaN(d) && !(Number.isNaN(x[i]!) && Number.isNaN(y[i]!))) return { max, mismatch: `element ${i}: ${x[i]} vs ${y[i]}` };
    if (d > max) max = d;
    if (d > abs) return { max, mismatch: `element ${i}: ${x[i]} vs ${y[i]} (|difference| ${d} > ${abs})` };
  }
  return { max };
}
