import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeNpy, encodeNpy, npyArray, readNpy, writeNpy } from '../src/data/npy.js';
import { Rng } from '../src/data/rng.js';
import { removeDir, tempDir } from './helpers/stage-context.js';

test('npy: header is numpy format 1.0, padded so data starts at a multiple of 64', () => {
  const bytes = encodeNpy(npyArray('|u1', [2, 32, 32, 3], new Uint8Array(2 * 3072)));
  assert.deepEqual([...bytes.subarray(0, 8)], [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  const headerLength = bytes.readUInt16LE(8);
  assert.equal((10 + headerLength) % 64, 0);
  const header = bytes.toString('latin1', 10, 10 + headerLength);
  assert.match(header, /^\{'descr': '\|u1', 'fortran_order': False, 'shape': \(2, 32, 32, 3\), \} *\n$/);
  assert.equal(bytes.length, 10 + headerLength + 2 * 3072);
});

test('npy: round trips every dtype, including 1-D and empty shapes', () => {
  const cases = [
    npyArray('|u1', [3], new Uint8Array([0, 127, 255])),
    npyArray('<i4', [2, 2], new Int32Array([-1, 0, 1, 2 ** 31 - 1])),
    npyArray('<f4', [1, 2], new Float32Array([0.5, -1.25])),
    npyArray('<f8', [0, 2], new Float64Array(0)),
  ];
  for (const a of cases) {
    const back = decodeNpy(encodeNpy(a));
    assert.equal(back.dtype, a.dtype);
    assert.deepEqual(back.shape, a.shape);
    assert.deepEqual([...back.data], [...a.data]);
  }
  assert.match(encodeNpy(cases[0]!).toString('latin1', 10, 80), /'shape': \(3,\)/);
});

test('npy: writeNpy equals encodeNpy; equal arrays give identical bytes', () => {
  const dir = tempDir();
  try {
    const a = npyArray('<i4', [4], new Int32Array([1, 2, 3, 4]));
    writeNpy(join(dir, 'a.npy'), a);
    assert.deepEqual(readFileSync(join(dir, 'a.npy')), encodeNpy(a));
    assert.deepEqual([...readNpy(join(dir, 'a.npy')).data], [1, 2, 3, 4]);
  } finally {
    removeDir(dir);
  }
});

test('npy: rejects a shape that does not match the data and a truncated file', () => {
  assert.throws(() => npyArray('|u1', [2, 2], new Uint8Array(3)), /holds 4 values but the data has 3/);
  const bytes = encodeNpy(npyArray('|u1', [4], new Uint8Array(4)));
  assert.throws(() => decodeNpy(bytes.subarray(0, bytes.length - 1), 'x.npy'), /x\.npy: expected 4 data bytes/);
});

test('npy: numpy reads what we write (skipped without python3 + numpy)', (t) => {
  try {
    execFileSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' });
  } catch {
    t.skip('python3 with numpy not available');
    return;
  }
  const dir = tempDir();
  try {
    writeNpy(join(dir, 'u.npy'), npyArray('|u1', [2, 2, 2, 3], Uint8Array.from({ length: 24 }, (_, i) => i)));
    writeNpy(join(dir, 'i.npy'), npyArray('<i4', [3], new Int32Array([-5, 0, 7])));
    writeNpy(join(dir, 'f.npy'), npyArray('<f4', [2, 2], new Float32Array([0.5, 1.5, -2, 3])));
    const out = execFileSync('python3', [
      '-c',
      `import numpy as np, sys
u=np.load(sys.argv[1]+'/u.npy'); i=np.load(sys.argv[1]+'/i.npy'); f=np.load(sys.argv[1]+'/f.npy')
print(u.dtype, u.shape, int(u[1,1,1,2]), i.dtype, i.tolist(), f.dtype, f.tolist())`,
      dir,
    ]).toString();
    assert.equal(out.trim(), 'uint8 (2, 2, 2, 3) 23 int32 [-5, 0, 7] float32 [[0.5, 1.5], [-2.0, 3.0]]');
  } finally {
    removeDir(dir);
  }
});

test('rng: streams are reproducible and independent by purpose', () => {
  const a = Rng.stream(1, 'x');
  const b = Rng.stream(1, 'x');
  const c = Rng.stream(1, 'y');
  const seqA = Array.from({ length: 5 }, () => a.uint32());
  assert.deepEqual(seqA, Array.from({ length: 5 }, () => b.uint32()));
  assert.notDeepEqual(seqA, Array.from({ length: 5 }, () => c.uint32()));
  assert.deepEqual([...Rng.stream(2, 'bytes').bytes(new Uint8Array(7))], [...Rng.stream(2, 'bytes').bytes(new Uint8Array(7))]);
});

test('rng: sample picks k distinct items in original order; truncated normal stays in bounds', () => {
  const rng = Rng.stream(3, 'sample');
  const items = Array.from({ length: 50 }, (_, i) => i * 2);
  const s = rng.sample(items, 10);
  assert.equal(new Set(s).size, 10);
  assert.deepEqual(s, [...s].sort((x, y) => x - y));
  assert.ok(s.every((v) => items.includes(v)));
  assert.throws(() => rng.sample(items, 51), /cannot sample 51 of 50/);
  for (let i = 0; i < 1000; i++) {
    const z = rng.truncatedNormal(-1, 2);
    assert.ok(z >= -1 && z <= 2);
  }
});
