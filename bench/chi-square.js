// Pearson's chi-square test of uniformity, for bench/sampling.js: are the sampled ids spread
// evenly over their id range? No dependency: the p-value is the regularized upper incomplete gamma
// function Q(df / 2, x / 2), by its series below a + 1 and its continued fraction above
// (Numerical Recipes, 2nd ed., 6.2), accurate to ~1e-12, far below what a 0.01 test needs.

/** Chi-square statistic of `ids` (integers in [0, range)) over `buckets` equal buckets, its degrees of freedom and p-value. */
export function uniformity(ids, range, buckets = 20) {
  const observed = new Array(buckets).fill(0);
  for (const id of ids) observed[Math.min(buckets - 1, Math.floor((id * buckets) / range))]++;
  const expected = ids.length / buckets;
  const statistic = expected === 0 ? 0 : observed.reduce((sum, o) => sum + ((o - expected) * (o - expected)) / expected, 0);
  const df = buckets - 1;
  return { statistic, df, p: expected === 0 ? 1 : chiSquareSurvival(statistic, df) };
}

/** P(X >= x) for X chi-square with `df` degrees of freedom. */
export function chiSquareSurvival(x, df) {
  return x <= 0 ? 1 : upperGammaRegularized(df / 2, x / 2);
}

function lnGamma(z) {
  // Lanczos approximation (g = 7, n = 9).
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (z < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * z)) - lnGamma(1 - z);
  const x = z - 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

function upperGammaRegularized(a, x) {
  const front = Math.exp(-x + a * Math.log(x) - lnGamma(a));
  if (x < a + 1) {
    // Series for P(a, x); Q = 1 - P.
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 1000 && Math.abs(term) > Math.abs(sum) * 1e-15; n++) {
      term *= x / (a + n);
      sum += term;
    }
    return Math.max(0, 1 - sum * front);
  }
  // Lentz's continued fraction for Q(a, x).
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return Math.min(1, front * h);
}
