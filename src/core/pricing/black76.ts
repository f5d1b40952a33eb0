/**
 * PLACEHOLDER (being replaced by the exact implementation in this same file; keep the signatures).
 * Black-76 price and greeks on the forward.
 */
import { requireKind, requireNonNegative, requirePositive } from "../errors.js";

export interface BlackInputs {
  /** Forward price (USD). */
  readonly forward: number;
  /** Strike (USD). */
  readonly strike: number;
  /** Time to expiry in years (ACT/365). */
  readonly expiry: number;
  /** Volatility, decimal annualized. */
  readonly vol: number;
  readonly kind: "call" | "put";
  /** Discount factor D = exp(-r T); default 1. */
  readonly discount?: number;
}

export interface BlackGreeks {
  readonly price: number;
  readonly delta: number;
  readonly gamma: number;
  readonly vega: number;
  readonly theta: number;
  readonly vanna: number;
  readonly volga: number;
  readonly charm: number;
}

function normCdfApprox(x: number): number {
  const t = 1 / (1 + 0.2316419 * Math.abs(x));
  const d = 0.3989422804014327 * Math.exp((-x * x) / 2);
  const p =
    d * t * (0.31938153 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
  return x >= 0 ? 1 - p : p;
}

export function blackPrice(o: BlackInputs): number {
  const F = requirePositive("forward", o.forward);
  const K = requirePositive("strike", o.strike);
  const T = requireNonNegative("expiry", o.expiry);
  const v = requireNonNegative("vol", o.vol);
  const kind = requireKind("kind", o.kind);
  const D = o.discount ?? 1;
  const s = v * Math.sqrt(T);
  if (s === 0) return D * Math.max(kind === "call" ? F - K : K - F, 0);
  const d1 = Math.log(F / K) / s + s / 2;
  const d2 = d1 - s;
  return kind === "call"
    ? D * (F * normCdfApprox(d1) - K * normCdfApprox(d2))
    : D * (K * normCdfApprox(-d2) - F * normCdfApprox(-d1));
}

export function blackGreeks(o: BlackInputs & { readonly rate?: number }): BlackGreeks {
  const F = o.forward;
  const K = o.strike;
  const T = o.expiry;
  const v = o.vol;
  const D = o.discount ?? 1;
  const r = o.rate ?? 0;
  const price = blackPrice(o);
  const s = v * Math.sqrt(T);
  const d1 = Math.log(F / K) / s + s / 2;
  const d2 = d1 - s;
  const n1 = Math.exp((-d1 * d1) / 2) / Math.sqrt(2 * Math.PI);
  const call = o.kind === "call";
  const delta = D * (call ? normCdfApprox(d1) : normCdfApprox(d1) - 1);
  const gamma = (D * n1) / (F * s);
  const vega = D * F * n1 * Math.sqrt(T);
  const theta = r * price - (D * F * n1 * v) / (2 * Math.sqrt(T));
  const vanna = (-D * n1 * d2) / v;
  const volga = (vega * d1 * d2) / v;
  const charm = r * delta + D * n1 * (-d2 / (2 * T)) * -1;
  return { price, delta, gamma, vega, theta, vanna, volga, charm };
}
