/**
 * Summary statistics written into every derived data set's metadata and log,
 * so a wrong data set is caught by reading numbers, not by a failed training
 * run: counts per class, and per-channel pixel means (0-255 and 0-1).
 */

/** Count of each label value, as `{ name: count }` in class order (labels outside 0..names-1 are an error). */
export function classCounts(labels: Int32Array, names: readonly string[], where = 'labels'): Record<string, number> {
  const counts = new Array<number>(names.length).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    if (!(y >= 0 && y < names.length)) throw new Error(`${where}: index ${i}: label ${y} out of range 0..${names.length - 1}`);
    counts[y]! += 1;
  }
  const out: Record<string, number> = {};
  names.forEach((n, i) => (out[n] = counts[i]!));
  return out;
}

/** Mean of each channel of uint8 NHWC images (last axis = channels), in 0-255 units. */
export function channelMeans(x: Uint8Array, channels: number): number[] {
  const sums = new Array<number>(channels).fill(0);
  const n = x.length / channels;
  // Sum in blocks of integers (exact) before converting, so the result is independent of chunking.
  for (let c = 0; c < channels; c++) {
    let s = 0;
    for (let i = c; i < x.length; i += channels) s += x[i]!;
    sums[c] = s;
  }
  return sums.map((s) => (n > 0 ? s / n : 0));
}

/** Mean of each column of a row-major float matrix. */
export function columnMeans(x: Float32Array | Float64Array, columns: number): number[] {
  const sums = new Array<number>(columns).fill(0);
  const n = x.length / columns;
  for (let i = 0; i < x.length; i++) sums[i % columns]! += x[i]!;
  return sums.map((s) => (n > 0 ? s / n : 0));
}

export function round(value: number, digits = 6): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
