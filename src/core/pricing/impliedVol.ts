/** PLACEHOLDER (being replaced by Let's Be Rational in this same file; keep the signatures). */
import { blackGreeks, blackPrice } from "./black76.js";

export interface ImpliedVolInputs {
  readonly price: number;
  readonly forward: number;
  readonly strike: number;
  readonly expiry: number;
  readonly kind: "call" | "put";
  readonly discount?: number;
}

export function impliedVol(o: ImpliedVolInputs): number {
  const D = o.discount ?? 1;
  const intrinsic = D * Math.max(o.kind === "call" ? o.forward - o.strike : o.strike - o.forward, 0);
  const upper = D * (o.kind === "call" ? o.forward : o.strike);
  if (!(o.price > intrinsic && o.price < upper)) return Number.NaN;
  let lo = 1e-6;
  let hi = 20;
  for (let i = 0; i < 200; i++) {
    const mid = 0.5 * (lo + hi);
    const p = blackPrice({ ...o, vol: mid });
    if (p > o.price) hi = mid;
    else lo = mid;
  }
  void blackGreeks;
  return 0.5 * (lo + hi);
}
