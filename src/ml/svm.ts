/**
 * The hard-margin SVM of a linearly separable 2D training set (the dotted
 * max-margin separator of Figures 1-3), computed exactly: the max-margin
 * separator is the perpendicular bisector of the closest pair of points of
 * the two classes' convex hulls. For disjoint convex polygons that pair has
 * a vertex of one hull and a point on an edge of the other, so it is found by
 * checking every (vertex, edge) pair of the two hulls (hulls by Andrew's
 * monotone chain). The result is verified: every point must satisfy
 * y (w·x + b) >= 1 (up to rounding); if not, the classes' hulls overlap and
 * the set is not linearly separable.
 *
 * Convention: labels 1 -> +1, 0 -> -1; (w, b) canonical, i.e. the support
 * vectors satisfy y (w·x + b) = 1 and the geometric margin is 1/‖w‖.
 */

export interface SvmResult {
  separable: boolean;
  /** Canonical weights and bias (null when not separable). */
  w: [number, number] | null;
  b: number | null;
  /** Geometric margin 1/‖w‖ (distance from the separator to the closest points). */
  margin: number | null;
  /** Indices of the points on the margin (|y (w·x + b) - 1| small). */
  support_vectors: number[];
  /** The closest pair between the classes' hulls: [negative, positive]. */
  closest_pair: [[number, number], [number, number]] | null;
}

type P = [number, number];

function cross(o: P, a: P, b: P): number {
  return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
}

/** Convex hull, counter-clockwise, without collinear points. */
export function convexHull(points: readonly P[]): P[] {
  const pts = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const uniq: P[] = [];
  for (const p of pts) if (!uniq.length || uniq[uniq.length - 1]![0] !== p[0] || uniq[uniq.length - 1]![1] !== p[1]) uniq.push(p);
  if (uniq.length <= 2) return uniq;
  const lower: P[] = [];
  for (const p of uniq) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: P[] = [];
  for (let i = uniq.length - 1; i >= 0; i--) {
    const p = uniq[i]!;
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, p) <= 0) upper.pop();
    upper.push(p);
  }
  lower.pop();
  upper.pop();
  return lower.concat(upper);
}

/** The point of segment [a, b] closest to p. */
function closestOnSegment(p: P, a: P, b: P): P {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  if (len2 === 0) return a;
  const t = Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2));
  return [a[0] + t * dx, a[1] + t * dy];
}

function edges(hull: P[]): Array<[P, P]> {
  if (hull.length === 1) return [[hull[0]!, hull[0]!]];
  if (hull.length === 2) return [[hull[0]!, hull[1]!]];
  return hull.map((p, i) => [p, hull[(i + 1) % hull.length]!] as [P, P]);
}

/** Closest points between two point sets' hulls (assuming the hulls are disjoint): [from a, from b]. */
export function closestHullPoints(a: readonly P[], b: readonly P[]): [P, P] {
  const ha = convexHull(a);
  const hb = convexHull(b);
  let best = Infinity;
  let pair: [P, P] = [ha[0]!, hb[0]!];
  const consider = (p: P, q: P) => {
    const d = (p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2;
    if (d < best) {
      best = d;
      pair = [p, q];
    }
  };
  for (const v of ha) for (const [s, t] of edges(hb)) consider(v, closestOnSegment(v, s, t));
  for (const v of hb) for (const [s, t] of edges(ha)) consider(closestOnSegment(v, s, t), v);
  return pair;
}

/** Hard-margin SVM of 2D points x ([N*2], row-major) with labels y in {0, 1}. */
export function hardMarginSvm2d(x: ArrayLike<number>, y: ArrayLike<number>): SvmResult {
  const n = y.length;
  const neg: P[] = [];
  const pos: P[] = [];
  for (let i = 0; i < n; i++) (y[i] === 1 ? pos : neg).push([x[2 * i]!, x[2 * i + 1]!]);
  const none: SvmResult = { separable: false, w: null, b: null, margin: null, support_vectors: [], closest_pair: null };
  if (!neg.length || !pos.length) return none;
  const [p, q] = closestHullPoints(neg, pos);
  const dx = q[0] - p[0];
  const dy = q[1] - p[1];
  const dist2 = dx * dx + dy * dy;
  if (!(dist2 > 0)) return none;
  // w ∝ (q - p), scaled so that w·q + b = 1 and w·p + b = -1.
  const s = 2 / dist2;
  const w: [number, number] = [s * dx, s * dy];
  const b = 1 - (w[0] * q[0] + w[1] * q[1]);
  const scale = Math.max(1, ...Array.from({ length: 2 * n }, (_, i) => Math.abs(x[i]!))) * Math.hypot(w[0], w[1]);
  const tol = 1e-9 * Math.max(1, scale);
  const sv: number[] = [];
  for (let i = 0; i < n; i++) {
    const yi = y[i] === 1 ? 1 : -1;
    const f = yi * (w[0] * x[2 * i]! + w[1] * x[2 * i + 1]! + b);
    if (f < 1 - 1e3 * tol) return none;
    if (f <= 1 + 1e3 * tol) sv.push(i);
  }
  return { separable: true, w, b, margin: 1 / Math.hypot(w[0], w[1]), support_vectors: sv, closest_pair: [p, q] };
}
