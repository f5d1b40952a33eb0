/**
 * A variance swap as an optimizer candidate (core/optimize/varianceSwapCandidate.ts): a fixed basket
 * of the chain's replicating strip. Its greeks, scenario PnL and margin are those of its legs, so
 * the optimizer's result for a book holding it equals the engine's figures on the book of its legs
 * (positionGreeks / standardBookMargin computed here on the expanded positions).
 */
import { describe, expect, it } from "vitest";
import type { OptionContract, Position } from "../../../src/core/instruments/types.js";
import { standardBookMargin } from "../../../src/core/margin/book.js";
import { syntheticChain } from "../../../src/core/market/synthetic.js";
import { optimizeProblemFromChain } from "../../../src/core/optimize/fromChain.js";
import { loadLpSolver } from "../../../src/core/optimize/lpSolver.js";
import { optimizePortfolio } from "../../../src/core/optimize/optimize.js";
import type { OptimizeSpecCore } from "../../../src/core/optimize/fromChain.js";
import { basketPositions } from "../../../src/core/optimize/varianceSwapCandidate.js";
import { positionGreeks } from "../../../src/core/risk/greeks.js";
import type { RiskMarket } from "../../../src/core/risk/market.js";

const solver = await loadLpSolver();
/** Sums of ~30 legs' greeks in another order: 1e-9 relative. */
const REL = 1e-9;
/** LP solution: HiGHS primal feasibility 1e-7 on scaled rows; the band is met to 1e-6 USD/pt. */
const BAND_TOL = 1e-6;

const valuationTime = Date.UTC(2026, 1, 2, 8);
const chain = syntheticChain({ underlying: "BTC", valuationTime, seed: 42 });
const build = (spec: OptimizeSpecCore, tenors: number[] = [30]) =>
  optimizeProblemFromChain({
    chain,
    positions: [],
    spec,
    filter: { minAbsDelta: 0.1, maxAbsDelta: 0.6 },
    varianceSwapTenors: tenors,
  });

/** The engine's greeks of positions, summed here (deltaCoin, cash gamma, vega per vol pt, theta/day). */
function engineGreeks(ps: readonly Position[], m: RiskMarket) {
  const s = { deltaCoin: 0, cashGammaUsd: 0, vegaUsdPerVolPt: 0, thetaUsdPerDay: 0 };
  for (const p of ps) {
    const g = positionGreeks(p, m);
    s.deltaCoin += g.deltaUnderlyingCoin;
    s.cashGammaUsd += g.cashGammaUsd;
    s.vegaUsdPerVolPt += g.vegaUsd / 100;
    s.thetaUsdPerDay += g.thetaUsdPerDay;
  }
  return s;
}

/** Standard margin in USD of netted positions, coin margin at the index (written here). */
function engineMarginUsd(ps: readonly Position[], m: RiskMarket): number {
  const live = ps.filter((p) => p.quantity !== 0);
  if (live.length === 0) return 0;
  let usd = 0;
  for (const [cur, v] of Object.entries(standardBookMargin(live, m).byCurrency))
    usd += v.initial * (cur === "USDC" ? 1 : (m.underlyings[cur]?.indexPrice ?? Number.NaN));
  return usd;
}

const close = (a: number, b: number) =>
  expect(Math.abs(a - b)).toBeLessThanOrEqual(REL * Math.max(1, Math.abs(b)));

describe("variance swap basket candidate", () => {
  const cp = build({ objective: { kind: "edge" }, constraints: {} });
  const b = cp.baskets[0]!;

  it("is the DDKZ strip of the expiry nearest 30 days, with its legs' greeks and a vega of ~2 K per unit", () => {
    expect(b.candidate.name).toBe("VS-30d");
    expect(cp.problem.candidates[cp.problem.candidates.length - 1]).toBe(b.candidate);
    expect(Math.abs(b.expiry - valuationTime - 30 * 86_400_000)).toBeLessThan(8 * 86_400_000);
    expect(b.legs.length).toBeGreaterThan(10);
    const T = (b.expiry - valuationTime) / (365 * 86_400_000);
    // Weights 1e4 x 2 dK / (T K^2): a leg away from K0 (single kind) with its neighbours' strikes.
    const strikes = [...new Set(b.legs.map((l) => (l.instrument as OptionContract).strike))].sort(
      (x, y) => x - y,
    );
    const k = strikes[2]!;
    const leg = b.legs.find((l) => (l.instrument as OptionContract).strike === k)!;
    expect(leg.quantity).toBeCloseTo((1e4 * 2 * ((strikes[3]! - strikes[1]!) / 2)) / (T * k * k), 12);
    const g = engineGreeks(b.legs, cp.market);
    close(b.candidate.greeks.vegaUsdPerVolPt, g.vegaUsdPerVolPt);
    close(b.candidate.greeks.deltaCoin, g.deltaCoin);
    close(b.candidate.greeks.cashGammaUsd, g.cashGammaUsd);
    close(b.candidate.greeks.thetaUsdPerDay, g.thetaUsdPerDay);
    // DDKZ: vega notional = 2 K N_var per vol point; the truncated strip carries a little less.
    expect(g.vegaUsdPerVolPt).toBeGreaterThan(0.8 * 2 * b.strikeVolPoints);
    expect(g.vegaUsdPerVolPt).toBeLessThan(1.05 * 2 * b.strikeVolPoints);
    expect(b.candidate.varianceUsdPerPt).toBe(1);
    expect(cp.notes.some((n) => n.startsWith("variance swap VS-30d: strip of"))).toBe(true);
  });

  for (const target of [50, -50]) {
    it(`asked for pure variance exposure (${target} USD per variance point) picks the basket; greeks and margin = the book of its legs`, () => {
      const p = build({
        objective: { kind: "edge" },
        constraints: { variance: { min: target, max: target } },
      });
      const r = optimizePortfolio(p.problem, solver);
      expect(r.status).toBe("optimal");
      expect(r.verification?.ok).toBe(true);
      const vs = r.trades.find((t) => t.name === "VS-30d");
      expect(vs?.side).toBe(target > 0 ? "buy" : "sell");
      expect(Math.abs(vs!.contracts - Math.abs(target))).toBeLessThan(BAND_TOL);
      expect(Math.abs(r.after.varianceUsdPerPt - target)).toBeLessThan(BAND_TOL);
      // The resulting book: the basket expanded plus any single option traded.
      const singles = p.candidateSet.instruments;
      const book: Position[] = [];
      for (const t of r.trades) {
        const q = t.side === "buy" ? t.contracts : -t.contracts;
        const ins = singles[t.index];
        if (ins) book.push({ instrument: ins, quantity: q });
        else book.push(...basketPositions(p.baskets[t.index - singles.length]!, q));
      }
      const g = engineGreeks(book, p.market);
      close(r.after.greeks.vegaUsdPerVolPt, g.vegaUsdPerVolPt);
      close(r.after.greeks.deltaCoin, g.deltaCoin);
      close(r.after.greeks.cashGammaUsd, g.cashGammaUsd);
      close(r.after.greeks.thetaUsdPerDay, g.thetaUsdPerDay);
      close(r.after.marginUsd, engineMarginUsd(book, p.market));
      if (target < 0) expect(r.after.marginUsd).toBeGreaterThan(0);
    });
  }

  it("without the basket the variance band cannot be met (no other candidate carries variance notional)", () => {
    const p = build({ objective: { kind: "edge" }, constraints: { variance: { min: 50 } } }, []);
    expect(p.baskets.length).toBe(0);
    expect(optimizePortfolio(p.problem, solver).status).not.toBe("optimal");
  });
});
