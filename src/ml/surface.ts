/**
 * The grid on which 2D decision surfaces are evaluated (Figures 1-3): G x G
 * points over the training data's bounding box, padded by 10% of its extent
 * on each side (a choice the paper leaves open). Row r, column c is the point
 * (x0 + c·dx, y0 + r·dy): rows go along y, columns along x, row 0 at the
 * bottom (y0).
 */

export interface GridSpec {
  size: number;
  x: [number, number];
  y: [number, number];
}

export function gridFor(points: ArrayLike<number>, size: number, pad = 0.1): GridSpec {
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (let i = 0; i + 1 < points.length; i += 2) {
    x0 = Math.min(x0, points[i]!);
    x1 = Math.max(x1, points[i]!);
    y0 = Math.min(y0, points[i + 1]!);
    y1 = Math.max(y1, points[i + 1]!);
  }
  const px = (x1 - x0 || 1) * pad;
  const py = (y1 - y0 || 1) * pad;
  const r = (v: number) => Math.round(v * 1e6) / 1e6;
  return { size, x: [r(x0 - px), r(x1 + px)], y: [r(y0 - py), r(y1 + py)] };
}

/** The grid's points, [G*G*2] row-major (row = y index, column = x index). */
export function gridPoints(g: GridSpec): Float32Array {
  const G = g.size;
  const out = new Float32Array(G * G * 2);
  const step = (lo: number, hi: number) => (G > 1 ? (hi - lo) / (G - 1) : 0);
  const dx = step(g.x[0], g.x[1]);
  const dy = step(g.y[0], g.y[1]);
  for (let r = 0; r < G; r++) {
    for (let c = 0; c < G; c++) {
      out[2 * (r * G + c)] = g.x[0] + c * dx;
      out[2 * (r * G + c) + 1] = g.y[0] + r * dy;
    }
  }
  return out;
}

/** Probability of class 1 from binary logits. */
export function sigmoidOf(logits: ArrayLike<number>): Float32Array {
  const out = new Float32Array(logits.length);
  for (let i = 0; i < logits.length; i++) {
    const z = logits[i]!;
    out[i] = z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
  }
  return out;
}
