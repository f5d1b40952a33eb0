/**
 * Deribit margin written out for tests from the documented formulas, with no margin, risk or
 * pricing code of volfolio (own Black-76 from ./reference.ts). Inputs are plain numbers per leg:
 * forward F of the leg's expiry (the index for a perpetual), the leg's IV at its strike, T in
 * years, signed size; a market move is applied here by hand.
 *
 * Standard margin (Deribit's per-position rules, module comment of src/core/margin/standard.ts):
 *   short call: IM = max(0.15 - OTM/S, 0.1) + mark, MM = 0.075 + mark       (per coin, in coin)
 *   short put:  MM = max(0.075, 0.075 mark) + mark, IM = max(max(0.15 - OTM/S, 0.1) + mark, MM)
 *   long options: 0.  Linear (USDC) options: the coin figure x S, in USDC.
 *   futures (rules of 11 January 2022): N coins, IM = N (2% + m N), MM = N (1% + m N),
 *   m = 0.005% per BTC, 0.0004% per ETH.
 * Portfolio margin (S:PM, private/pme/simulate parameters of params/btc.ts, eth.ts, usdc.ts):
 *   per currency, per pair u: 9 buckets s = range_u b / 4 x vol up/same/down, sticky-strike
 *   (each option keeps its IV, shocked with f = (30 / max(DTE, 1))^(DTE < 30 ? 0.30 : 0.13):
 *   up v + max(v, 0.5) up_u f, down v (1 - 0.25 f)); extended moves -66%..+500% with vol up,
 *   futures at the +-range edge, weight min(1, range / |move|); per cell the pairs aggregate as
 *   sum min(x, 0) + min(offset sum max(x, 0), cap); extended cells dampened toward 0 by D (USD at
 *   the index); roll = sum over futures |coins| max(amr T, min amr) (x F for USDC); no delta
 *   shock below $20M of delta (the books here are far smaller); IM = worst + roll, MM = 0.8 IM.
 */
import { black } from "./reference.js";

export type Ccy = "BTC" | "ETH" | "USDC";
export type Und = "BTC" | "ETH";
export type VolScen = "up" | "same" | "down";

export const PAIR = {
  BTC: { range: 0.16, up: 0.5, down: 0.25, mInc: 0.00005 },
  ETH: { range: 0.18, up: 0.4, down: 0.25, mInc: 0.000004 },
} as const;
export const CCY = {
  BTC: { amr: 0.075, minAmr: 0.01, dampUsd: 100_000, offset: 0, capUsd: 0 },
  ETH: { amr: 0.05, minAmr: 0.005, dampUsd: 200_000, offset: 0.6, capUsd: 20_000_000 },
  USDC: { amr: 0.1, minAmr: 0.01, dampUsd: 25_000, offset: 0, capUsd: 0 },
} as const;
export const EXT = [-0.66, -0.33, 0.5, 1, 2, 3, 4, 5];

/** One leg, as plain data. */
export type RefLeg =
  | {
      type: "option";
      u: Und;
      linear: boolean;
      call: boolean;
      K: number;
      /** Forward of the expiry (USD), IV at K, T years. */
      F: number;
      v: number;
      T: number;
      /** Signed coins of underlying (quantity x contract size). */
      size: number;
    }
  | {
      type: "future";
      u: Und;
      /** Future price (forward of its expiry, or the index for a perpetual), T (0 for a perpetual). */
      F: number;
      T: number;
      /** Signed USD notional (inverse). */
      usd: number;
      /** Entry price (default F). */
      entry?: number;
    };

export const ccyOf = (l: RefLeg): Ccy => (l.type === "option" && l.linear ? "USDC" : l.u);

export function shockedVol(v: number, T: number, vol: VolScen, u: Und): number {
  if (vol === "same") return v;
  const dte = Math.max(T * 365, 1);
  const f = (30 / dte) ** (dte < 30 ? 0.3 : 0.13);
  return vol === "up" ? v + Math.max(v, 0.5) * PAIR[u].up * f : Math.max(v * (1 - PAIR[u].down * f), 0.01);
}

/** Value of a leg in its currency with every price moved by s (relative), vol scenario. */
export function legValue(l: RefLeg, s: number, vol: VolScen = "same"): number {
  const F = l.F * (1 + s);
  if (l.type === "future") {
    const E = l.entry ?? l.F;
    return l.usd * (1 / E - 1 / F);
  }
  const b = black(F, l.K, shockedVol(l.v, l.T, vol, l.u), l.T, l.call);
  return l.linear ? l.size * b : (l.size * b) / F;
}

export const legPnl = (l: RefLeg, s: number, vol: VolScen) => legValue(l, s, vol) - legValue(l, 0, "same");

/** Standard margin by currency. */
export function refStandard(
  legs: readonly RefLeg[],
): Record<string, { initial: number; maintenance: number }> {
  const out: Record<string, { initial: number; maintenance: number }> = {};
  for (const l of legs) {
    const c = ccyOf(l);
    out[c] ??= { initial: 0, maintenance: 0 };
    const o = out[c] as { initial: number; maintenance: number };
    if (l.type === "future") {
      const N = Math.abs(l.usd) / l.F;
      o.initial += N * (0.02 + PAIR[l.u].mInc * N);
      o.maintenance += N * (0.01 + PAIR[l.u].mInc * N);
      continue;
    }
    if (l.size >= 0) continue;
    const n = -l.size;
    const S = l.F;
    const mark = black(S, l.K, l.v, l.T, l.call) / S;
    const otm = l.call ? Math.max(l.K - S, 0) : Math.max(S - l.K, 0);
    const base = Math.max(0.15 - otm / S, 0.1) + mark;
    let im: number;
    let mm: number;
    if (l.call) {
      im = base;
      mm = 0.075 + mark;
    } else {
      mm = Math.max(0.075, 0.075 * mark) + mark;
      im = Math.max(base, mm);
    }
    const scale = l.linear ? S : 1;
    o.initial += n * im * scale;
    o.maintenance += n * mm * scale;
  }
  return out;
}

export interface RefPm {
  initial: number;
  maintenance: number;
  worst: number;
  roll: number;
  /** Worst loss of the full matrix: every pair's loss counted whole, no offset/weight/dampener. */
  fullMatrixLoss: number;
}

/**
 * Portfolio margin by currency. `index` by underlying (USD) converts the dampener and the offset
 * cap; `move` moves every price by a relative x first (for revaluation at a bumped market: the
 * matrix is then taken around the moved prices, IVs unchanged, i.e. sticky-strike).
 */
export function refPortfolio(
  legsIn: readonly RefLeg[],
  index: Readonly<Record<string, number>>,
  move = 0,
): Record<string, RefPm> {
  const legs = legsIn.map((l): RefLeg => {
    if (move === 0) return l;
    if (l.type === "future") return { ...l, F: l.F * (1 + move), entry: l.entry ?? l.F };
    return { ...l, F: l.F * (1 + move) };
  });
  const out: Record<string, RefPm> = {};
  for (const cur of [...new Set(legs.map(ccyOf))]) {
    const mine = legs.filter((l) => ccyOf(l) === cur);
    const us = [...new Set(mine.map((l) => l.u))];
    const unit = cur === "USDC" ? 1 : (index[cur] as number) * (1 + move);
    const p = CCY[cur];
    const agg = (xs: number[]) => {
      const loss = xs.filter((x) => x < 0).reduce((a, b) => a + b, 0);
      const gain = xs.filter((x) => x > 0).reduce((a, b) => a + b, 0);
      return loss + (gain > 0 ? Math.min(p.offset * gain, p.capUsd / unit) : 0);
    };
    const full = (xs: number[]) => xs.reduce((a, x) => a + Math.max(0, -x), 0);
    let worst = 0;
    let fullLoss = 0;
    for (let b = -4; b <= 4; b++)
      for (const vol of ["up", "same", "down"] as VolScen[]) {
        const x = us.map((u) =>
          mine.filter((l) => l.u === u).reduce((a, l) => a + legPnl(l, (PAIR[u].range * b) / 4, vol), 0),
        );
        worst = Math.max(worst, -agg(x));
        fullLoss = Math.max(fullLoss, full(x));
      }
    const damp = p.dampUsd / unit;
    for (const m of EXT) {
      const raw = us.map((u) => {
        const r = PAIR[u].range;
        const edge = Math.max(-r, Math.min(r, m));
        return mine
          .filter((l) => l.u === u)
          .reduce(
            (a, l) => a + legPnl(l, l.type === "future" ? edge : m, l.type === "future" ? "same" : "up"),
            0,
          );
      });
      fullLoss = Math.max(fullLoss, full(raw));
      const a = agg(raw.map((x, i) => x * Math.min(1, PAIR[us[i] as Und].range / Math.abs(m))));
      worst = Math.max(worst, -(a < 0 ? Math.min(0, a + damp) : Math.max(0, a - damp)));
    }
    // Roll shock on each future's size in the currency (legs are distinct instruments here).
    let roll = 0;
    for (const l of mine)
      if (l.type === "future") {
        const coins = Math.abs(l.usd) / l.F;
        roll += coins * Math.max(p.amr * l.T, p.minAmr);
      }
    const initial = worst + roll;
    out[cur] = { initial, maintenance: 0.8 * initial, worst, roll, fullMatrixLoss: fullLoss };
  }
  return out;
}

/** Equity by currency: cash + leg values at a move s (inverse legs in coin, linear in USDC). */
export function refEquity(
  legs: readonly RefLeg[],
  cash: Readonly<Record<string, number>>,
  s: number,
): Record<string, number> {
  const eq: Record<string, number> = { ...cash };
  for (const l of legs) eq[ccyOf(l)] = (eq[ccyOf(l)] ?? 0) + legValue(l, s, "same");
  return eq;
}

/** Surplus (equity - PM maintenance) by account at a move s, and pooled in USD (haircuts 0). */
export function refSurplus(
  legs: readonly RefLeg[],
  cash: Readonly<Record<string, number>>,
  index: Readonly<Record<string, number>>,
  s: number,
): Record<string, number> {
  const eq = refEquity(legs, cash, s);
  const pm = refPortfolio(legs, index, s);
  const out: Record<string, number> = {};
  let pooled = 0;
  for (const c of Object.keys(eq)) {
    const x = (eq[c] as number) - (pm[c]?.maintenance ?? 0);
    out[c] = x;
    pooled += x * (c === "USDC" ? 1 : (index[c] as number) * (1 + s));
  }
  out.pooled = pooled;
  return out;
}

/**
 * Cross portfolio margin (X:PM) as crossPortfolioMargin reads it, written out: ONE USD matrix,
 * buckets = pairs. Cell PnL of pair u, USD: positions on u (inverse legs' coin values x the moved
 * index, linear legs in USDC) + coin balances of u x index x move; standard cells as S:PM; the
 * extended table with options at the move (vol up), futures and balances at the +-range edge,
 * weight min(1, range / |move|); across pairs the usd parameters (offset 0, dampener 25,000 USD);
 * roll = sum |coins| F max(amr_c T, min_c) with c the settlement currency; IM = worst + roll.
 */
export function refCross(
  legs: readonly RefLeg[],
  balances: Readonly<Record<string, number>>,
  index: Readonly<Record<string, number>>,
): { initial: number; maintenance: number; worst: number; roll: number } {
  const usdValue = (l: RefLeg, s: number, vol: VolScen) => {
    const v = legValue(l, s, vol);
    return ccyOf(l) === "USDC" ? v : v * (index[l.u] as number) * (1 + s);
  };
  const pnl = (l: RefLeg, s: number, vol: VolScen) => usdValue(l, s, vol) - usdValue(l, 0, "same");
  const us = [
    ...new Set([...legs.map((l) => l.u), ...(Object.keys(balances).filter((c) => c !== "USDC") as Und[])]),
  ];
  const bal = (u: Und, s: number) => (balances[u] ?? 0) * (index[u] as number) * s;
  const p = CCY.USDC;
  const agg = (xs: number[]) => {
    const loss = xs.filter((x) => x < 0).reduce((a, b) => a + b, 0);
    const gain = xs.filter((x) => x > 0).reduce((a, b) => a + b, 0);
    return loss + (gain > 0 ? Math.min(p.offset * gain, p.capUsd) : 0);
  };
  let worst = 0;
  for (let b = -4; b <= 4; b++)
    for (const vol of ["up", "same", "down"] as VolScen[]) {
      const x = us.map((u) => {
        const s = (PAIR[u].range * b) / 4;
        return legs.filter((l) => l.u === u).reduce((a, l) => a + pnl(l, s, vol), 0) + bal(u, s);
      });
      worst = Math.max(worst, -agg(x));
    }
  for (const m of EXT) {
    const x = us.map((u) => {
      const r = PAIR[u].range;
      const edge = Math.max(-r, Math.min(r, m));
      const raw =
        legs
          .filter((l) => l.u === u)
          .reduce(
            (a, l) => a + pnl(l, l.type === "future" ? edge : m, l.type === "future" ? "same" : "up"),
            0,
          ) + bal(u, edge);
      return raw * Math.min(1, r / Math.abs(m));
    });
    const a = agg(x);
    worst = Math.max(worst, -(a < 0 ? Math.min(0, a + p.dampUsd) : Math.max(0, a - p.dampUsd)));
  }
  let roll = 0;
  for (const l of legs)
    if (l.type === "future") {
      const c = CCY[ccyOf(l)];
      roll += Math.abs(l.usd) * Math.max(c.amr * l.T, c.minAmr);
    }
  return { initial: worst + roll, maintenance: 0.8 * (worst + roll), worst, roll };
}
