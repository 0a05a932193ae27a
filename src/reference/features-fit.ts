// Least-squares fits from points, computed two-pass about the means (the reference's
// straightforward numerics; the kernel merges bucket moments instead, see docs/kernel.md).

export interface CentralSums { n: number; s2: number; s3: number; s4: number; c11: number; c21: number }

/** Central sums of (x, y) points: Σdx², Σdx³, Σdx⁴, Σdx·dy, Σdx²·dy about the means. */
export function centralSums(xs: readonly number[], ys: readonly number[]): CentralSums {
  const n = xs.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) { mx += xs[i]; my += ys[i]; }
  mx /= n;
  my /= n;
  const r: CentralSums = { n, s2: 0, s3: 0, s4: 0, c11: 0, c21: 0 };
  for (let i = 0; i < n; i++) {
    const dx = xs[i] - mx;
    const dy = ys[i] - my;
    const dx2 = dx * dx;
    r.s2 += dx2; r.s3 += dx2 * dx; r.s4 += dx2 * dx2; r.c11 += dx * dy; r.c21 += dx2 * dy;
  }
  return r;
}

/** Slope b of y = a + b·x. */
export function linearSlope(s: CentralSums): number {
  return s.c11 / s.s2;
}

/** 2c of y = a + b·x + c·x² (normal equations in centred x; see docs/kernel.md). */
export function quadraticCurvature(s: CentralSums): number {
  const q = s.s4 - (s.s2 * s.s2) / s.n;
  return (2 * (s.s2 * s.c21 - s.s3 * s.c11)) / (s.s2 * q - s.s3 * s.s3);
}
