/**
 * Seeded pseudo-random numbers (no globals, no Math.random): everything stochastic in
 * volfolio takes an `Rng` so runs are reproducible from a seed.
 *
 * Generator: xoshiro128** (Blackman & Vigna), seeded through splitmix32. Normals by the
 * polar Marsaglia method (exact in distribution, no table).
 */
export interface Rng {
  /** Uniform on [0, 1). */
  uniform(): number;
  /** Standard normal N(0, 1). */
  normal(): number;
  /** Integer uniform on [0, n). */
  int(n: number): number;
  /** Poisson with mean `lambda` (Knuth for small means, normal approximation above 50). */
  poisson(lambda: number): number;
  /** Exponential with mean 1. */
  exponential(): number;
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** Creates a seeded generator. The same seed always gives the same stream. */
export function createRng(seed: number): Rng {
  const sm = splitmix32(Math.floor(seed) ^ 0x5bd1e995);
  let a = sm();
  let b = sm();
  let c = sm();
  let d = sm();
  if ((a | b | c | d) === 0) a = 1;
  const next = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result;
  };
  let spare: number | null = null;
  const uniform = (): number => {
    // 53 random bits from two 32-bit draws.
    const hi = next() >>> 5;
    const lo = next() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  };
  const normal = (): number => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    let u = 0;
    let v = 0;
    let s = 0;
    do {
      u = 2 * uniform() - 1;
      v = 2 * uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const m = Math.sqrt((-2 * Math.log(s)) / s);
    spare = v * m;
    return u * m;
  };
  return {
    uniform,
    normal,
    int: (n: number) => Math.floor(uniform() * n),
    exponential: () => -Math.log(1 - uniform()),
    poisson: (lambda: number) => {
      if (lambda <= 0) return 0;
      if (lambda > 50) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * normal()));
      const l = Math.exp(-lambda);
      let k = 0;
      let p = 1;
      do {
        k++;
        p *= uniform();
      } while (p > l);
      return k - 1;
    },
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
