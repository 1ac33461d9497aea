import { createHash } from 'node:crypto';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

/**
 * Seeded randomness for data generation (xoroshiro128+ from `pure-rand`).
 * Every random choice a stage makes comes from an `Rng` built from a seed in
 * its params, and each purpose gets its own stream (`Rng.stream(seed,
 * 'label-noise')`), so adding a draw for one purpose never shifts another.
 */
export class Rng {
  private constructor(private readonly gen: RandomGenerator) {}

  /** An independent stream for one purpose, derived from (seed, purpose) by SHA-256. */
  static stream(seed: number, purpose: string): Rng {
    if (!Number.isSafeInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
    const digest = createHash('sha256').update(`${seed}\u0000${purpose}`).digest();
    return new Rng(xoroshiro128plus(digest.readInt32LE(0)));
  }

  /** 32 random bits as an unsigned integer. */
  uint32(): number {
    return this.gen.next() >>> 0;
  }

  /** Uniform in [0, 1), 53 bits. */
  float(): number {
    return uniformFloat64(this.gen);
  }

  /** Uniform integer in [from, to], both included. */
  int(from: number, to: number): number {
    return uniformInt(this.gen, from, to);
  }

  /** Standard normal (Box-Muller; one value per call, so streams stay simple to reason about). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.float();
    const v = this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Normal(0, 1) restricted to [lo, hi], by rejection. */
  truncatedNormal(lo: number, hi: number): number {
    if (!(lo < hi)) throw new Error(`truncatedNormal: empty interval [${lo}, ${hi}]`);
    for (let i = 0; i < 1_000_000; i++) {
      const z = this.normal();
      if (z >= lo && z <= hi) return z;
    }
    throw new Error(`truncatedNormal: interval [${lo}, ${hi}] has too little mass for rejection sampling`);
  }

  /** Fills `out` with uniform random bytes. */
  bytes(out: Uint8Array): Uint8Array {
    let i = 0;
    for (; i + 4 <= out.length; i += 4) {
      const r = this.gen.next();
      out[i] = r & 0xff;
      out[i + 1] = (r >>> 8) & 0xff;
      out[i + 2] = (r >>> 16) & 0xff;
      out[i + 3] = (r >>> 24) & 0xff;
    }
    if (i < out.length) {
      const r = this.gen.next();
      for (let k = 0; i < out.length; i++, k++) out[i] = (r >>> (8 * k)) & 0xff;
    }
    return out;
  }

  /** Fisher-Yates shuffle in place. */
  shuffle<T extends { length: number; [i: number]: unknown }>(array: T): T {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      const t = array[i];
      array[i] = array[j];
      array[j] = t;
    }
    return array;
  }

  /** `k` distinct elements of `items`, returned in their original order. */
  sample(items: readonly number[], k: number): number[] {
    if (!Number.isInteger(k) || k < 0 || k > items.length) {
      throw new Error(`cannot sample ${k} of ${items.length} items`);
    }
    const positions = Array.from({ length: items.length }, (_, i) => i);
    this.shuffle(positions);
    return positions
      .slice(0, k)
      .sort((a, b) => a - b)
      .map((p) => items[p]!);
  }
}
