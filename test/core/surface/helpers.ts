/** Test helpers: synthetic slices from known smiles; where the real sample chain lives. */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { SurfaceQuote, SurfaceSlice } from "../../../src/core/surface/sliceData.js";

/** A slice whose mid vols are exactly sqrt(w(k)/T), with a bid/ask band of +-halfSpread. */
export function syntheticSlice(
  w: (k: number) => number,
  T: number,
  ks: readonly number[],
  halfSpread = 0.005,
  noise?: () => number,
): SurfaceSlice {
  const quotes: SurfaceQuote[] = ks.map((k) => {
    const v = Math.sqrt(w(k) / T) + (noise ? noise() : 0);
    return { k, bidVol: v - halfSpread, askVol: v + halfSpread, targetVol: v, source: "mid" };
  });
  return { expiry: T, forward: 100, quotes };
}

export const linspace = (a: number, b: number, n: number): number[] =>
  Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));

export const DATA_DIR = resolve(__dirname, "../../..", "../shared/data");
export const SAMPLE_CSV = resolve(DATA_DIR, "deribit/sample_BTC_ETH_chain_20260110T091409Z.csv");
export const haveSample = existsSync(SAMPLE_CSV);

/** x, or a failing test naming `what` when it is missing (strict indexed access in assertions). */
export function defined<T>(x: T | undefined, what: string): T {
  if (x === undefined) throw new Error(`${what} is missing`);
  return x;
}
