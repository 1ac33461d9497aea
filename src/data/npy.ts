import { readFileSync, writeFileSync } from 'node:fs';

/**
 * NumPy `.npy` (format version 1.0), the on-disk format of every tensor the
 * pipeline writes, so numpy, PyTorch or anyone else can open it:
 *
 *   \x93NUMPY 0x01 0x00 <uint16 LE header length> <header> <raw data>
 *
 * The header is a Python dict literal `{'descr': '|u1', 'fortran_order':
 * False, 'shape': (N, 32, 32, 3), }`, space-padded and newline-terminated so
 * that the data starts at a multiple of 64 bytes. Data is C order,
 * little-endian. The encoding is fully determined by (dtype, shape, data), so
 * equal arrays give byte-identical files, which is what lets the content-
 * addressed cache recognise them.
 */

export type NpyDtype = '|u1' | '<i4' | '<f4' | '<f8';

export type NpyData<D extends NpyDtype> = D extends '|u1'
  ? Uint8Array
  : D extends '<i4'
    ? Int32Array
    : D extends '<f4'
      ? Float32Array
      : Float64Array;

export interface NpyArray<D extends NpyDtype = NpyDtype> {
  dtype: D;
  shape: number[];
  data: NpyData<D>;
}

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY
const ITEM_SIZE: Record<NpyDtype, number> = { '|u1': 1, '<i4': 4, '<f4': 4, '<f8': 8 };

export function npyArray<D extends NpyDtype>(dtype: D, shape: number[], data: NpyData<D>): NpyArray<D> {
  const n = shape.reduce((a, b) => a * b, 1);
  if (data.length !== n) {
    throw new Error(`npy: shape (${shape.join(', ')}) holds ${n} values but the data has ${data.length}`);
  }
  return { dtype, shape, data };
}

export function shapeLiteral(shape: readonly number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

function header(dtype: NpyDtype, shape: readonly number[]): Buffer {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`npy: invalid dimension ${d} in shape (${shape.join(', ')})`);
  }
  const dict = `{'descr': '${dtype}', 'fortran_order': False, 'shape': ${shapeLiteral(shape)}, }`;
  const unpadded = MAGIC.length + 2 + 2 + dict.length + 1; // + trailing newline
  const total = Math.ceil(unpadded / 64) * 64;
  const text = dict + ' '.repeat(total - unpadded) + '\n';
  if (text.length > 0xffff) throw new Error('npy: header too long for format 1.0');
  const out = Buffer.alloc(MAGIC.length + 4 + text.length);
  MAGIC.copy(out, 0);
  out[6] = 1;
  out[7] = 0;
  out.writeUInt16LE(text.length, 8);
  out.write(text, 10, 'latin1');
  return out;
}

function dataBytes(array: NpyArray): Buffer {
  const { data } = array;
  // Every platform Node runs on is little-endian, which is what the dtypes say.
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

export function encodeNpy(array: NpyArray): Buffer {
  npyArray(array.dtype, array.shape, array.data as never);
  return Buffer.concat([header(array.dtype, array.shape), dataBytes(array)]);
}

export function writeNpy(path: string, array: NpyArray): void {
  npyArray(array.dtype, array.shape, array.data as never);
  const head = header(array.dtype, array.shape);
  // Two writes, no concatenation: arrays here reach 150 MB.
  writeFileSync(path, head);
  writeFileSync(path, dataBytes(array), { flag: 'a' });
}

export function decodeNpy(bytes: Uint8Array, where = 'npy'): NpyArray {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) throw new Error(`${where}: not an .npy file (bad magic)`);
  const major = buf[6]!;
  let headerLength: number;
  let offset: number;
  if (major === 1) {
    headerLength = buf.readUInt16LE(8);
    offset = 10;
  } else if (major === 2 || major === 3) {
    headerLength = buf.readUInt32LE(8);
    offset = 12;
  } else {
    throw new Error(`${where}: unsupported .npy format version ${major}`);
  }
  const text = buf.toString('latin1', offset, offset + headerLength);
  const descr = /'descr':\s*'([^']+)'/.exec(text)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(text)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new Error(`${where}: malformed .npy header ${JSON.stringify(text)}`);
  if (fortran !== 'False') throw new Error(`${where}: Fortran-ordered arrays are not supported`);
  const dtype = (descr === '<u1' ? '|u1' : descr) as NpyDtype;
  if (!(dtype in ITEM_SIZE)) throw new Error(`${where}: unsupported dtype ${descr} (supported: ${Object.keys(ITEM_SIZE).join(', ')})`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => Number(s));
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`${where}: malformed shape (${shapeText})`);
  const n = shape.reduce((a, b) => a * b, 1);
  const start = offset + headerLength;
  const byteLength = n * ITEM_SIZE[dtype];
  if (buf.length - start !== byteLength) {
    throw new Error(`${where}: expected ${byteLength} data bytes for shape (${shape.join(', ')}) ${dtype}, found ${buf.length - start}`);
  }
  // Copy into a fresh, aligned buffer: typed arrays need aligned offsets.
  const raw = new Uint8Array(byteLength);
  raw.set(buf.subarray(start, start + byteLength));
  const data =
    dtype === '|u1'
      ? raw
      : dtype === '<i4'
        ? new Int32Array(raw.buffer)
        : dtype === '<f4'
          ? new Float32Array(raw.buffer)
          : new Float64Array(raw.buffer);
  return { dtype, shape, data } as NpyArray;
}

export function readNpy(path: string): NpyArray {
  return decodeNpy(readFileSync(path), path);
}

/** Reads an .npy and checks its dtype, for callers that know what they expect. */
export function readNpyAs<D extends NpyDtype>(path: string, dtype: D): NpyArray<D> {
  const array = readNpy(path);
  if (array.dtype !== dtype) throw new Error(`${path}: expected dtype ${dtype}, found ${array.dtype}`);
  return array as NpyArray<D>;
}
