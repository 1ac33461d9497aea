import type * as tfTypes from '@tensorflow/tfjs';
import { Rng } from '../data/rng.js';

/**
 * Seeded dropout masks, drawn on the host so that they are identical on
 * every backend and a resumed run draws exactly what an uninterrupted one
 * would: one stream per (seed, epoch), consumed in step order.
 *
 * Inverted dropout as in PyTorch: a unit is zeroed with probability p and
 * the survivors are scaled by 1/(1-p), so evaluation uses the network as is.
 */
export class DropoutMasks {
  private readonly rng: Rng;

  constructor(
    private readonly tf: typeof tfTypes,
    seed: number,
    epoch: number,
  ) {
    this.rng = Rng.stream(seed, `dropout:${epoch}`);
  }

  /** Multiplies `x` by a fresh mask (same shape as x). */
  apply(x: tfTypes.Tensor, p: number): tfTypes.Tensor {
    if (p <= 0) return x;
    const n = x.size;
    const mask = new Float32Array(n);
    fillMask(this.rng, mask, p);
    return x.mul(this.tf.tensor(mask, x.shape, 'float32'));
  }
}

/** Fills `out` with 0 (probability p) or 1/(1-p); one uint32 per unit. */
export function fillMask(rng: Rng, out: Float32Array | Float64Array, p: number): void {
  const keep = 1 / (1 - p);
  const threshold = p * 4294967296;
  for (let i = 0; i < out.length; i++) out[i] = rng.uint32() < threshold ? 0 : keep;
}
