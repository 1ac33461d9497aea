import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { TensorData } from './params.js';

/**
 * A training checkpoint: one file `train-state.ckpt` in the node's checkpoint
 * directory, replaced atomically (written to a temporary name, fsynced,
 * renamed), so a kill at any instant leaves either the previous checkpoint or
 * the new one.
 *
 * Layout: "IWDLCKP1", uint32 LE length of a JSON header, the header, zero
 * padding to a multiple of 8, then the data of every tensor (float32 or
 * float64, little-endian) in header order, each padded to a multiple of 8. The header holds `info` (the caller's JSON: epoch, metrics so far, a
 * fingerprint of the configuration) and the tensors' names and shapes.
 */

const MAGIC = Buffer.from('IWDLCKP1', 'latin1');
export const CHECKPOINT_FILE = 'train-state.ckpt';

export interface Checkpoint<I> {
  info: I;
  tensors: Record<string, TensorData>;
}

export function writeCheckpoint<I>(dir: string, ckpt: Checkpoint<I>): void {
  mkdirSync(dir, { recursive: true });
  const names = Object.keys(ckpt.tensors);
  const header = Buffer.from(
    JSON.stringify({
      info: ckpt.info,
      tensors: names.map((n) => ({ name: n, shape: ckpt.tensors[n]!.shape, dtype: ckpt.tensors[n]!.data instanceof Float64Array ? 'float64' : 'float32' })),
    }),
    'utf8',
  );
  const len = Buffer.alloc(4);
  len.writeUInt32LE(header.length, 0);
  const pad = (8 - ((MAGIC.length + 4 + header.length) % 8)) % 8;
  const tmp = join(dir, `${CHECKPOINT_FILE}.tmp-${process.pid}`);
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, MAGIC);
    writeSync(fd, len);
    writeSync(fd, header);
    if (pad) writeSync(fd, Buffer.alloc(pad));
    for (const n of names) {
      const t = ckpt.tensors[n]!;
      const expected = t.shape.reduce((a, b) => a * b, 1);
      if (t.data.length !== expected) throw new Error(`checkpoint tensor '${n}': ${t.data.length} values for shape [${t.shape}]`);
      writeSync(fd, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
      if (t.data.byteLength % 8) writeSync(fd, Buffer.alloc(8 - (t.data.byteLength % 8)));
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, CHECKPOINT_FILE));
}

/** The checkpoint in `dir`, or null if there is none. A damaged file is an error. */
export function readCheckpoint<I>(dir: string): Checkpoint<I> | null {
  const path = join(dir, CHECKPOINT_FILE);
  if (!existsSync(path)) return null;
  const buf = readFileSync(path);
  if (buf.length < 12 || !buf.subarray(0, 8).equals(MAGIC)) throw new Error(`${path}: not a training checkpoint`);
  const hlen = buf.readUInt32LE(8);
  const header = JSON.parse(buf.subarray(12, 12 + hlen).toString('utf8')) as {
    info: I;
    tensors: Array<{ name: string; shape: number[]; dtype: 'float32' | 'float64' }>;
  };
  let off = 12 + hlen;
  off += (8 - (off % 8)) % 8;
  const tensors: Record<string, TensorData> = {};
  for (const t of header.tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const bytes = (t.dtype === 'float64' ? 8 : 4) * n;
    if (off + bytes > buf.length) throw new Error(`${path}: truncated (tensor '${t.name}')`);
    const data = t.dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
    Buffer.from(data.buffer).set(buf.subarray(off, off + bytes));
    tensors[t.name] = { shape: t.shape, data };
    off += bytes + ((8 - (bytes % 8)) % 8);
  }
  if (off !== buf.length) throw new Error(`${path}: ${buf.length - off} trailing bytes`);
  return { info: header.info, tensors };
}
