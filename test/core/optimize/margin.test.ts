/**
 * The optimizer's margin constraint is Deribit standard margin as the core engine computes it
 * (issue 20 item 7): per position, netted by instrument. The reported margin after the trades is
 * checked against standardBookMargin on the resulting book, netted and converted to USD here in
 * the test (coin x index, USDC x 1), to 1e-9; and the margin budget holds for that figure.
 */
import { describe, expect, it } from "vitest";
import type { Position } from "../../../src/core/instruments/types.js";
import { instrumentFromName } from "../../../src/core/instruments/names.js";
import { standardBookMargin } from "../../../src/core/margin/book.js";
import { portfolioMargin } from "../../../src/core/margin/portfolioMargin.js";
import { syntheticChain } from "../../../src/core/market/synthetic.js";
import { optimizeProblemFromChain } from "../../../src/core/optimize/fromChain.js";
import { optimizePortfolio } from "../../../src/core/optimize/optimize.js";
import type { OptimizeProblem } from "../../../src/core/optimize/spec.js";
import type { RiskMarket } from "../../../src/core/risk/market.js";
import { book, cand, G0, LP_VERTEX_DIGITS } from "./helpers.js";
import { loadLpSolver } from "../../../src/core/optimize/lpSolver.js";

/** The optimizer's book margin vs the engine's standardBookMargin of the same positions x index (sums of ~5 legs of 1e3-1e5 USD): 8 digits of USD. (was 6; tightened, passes at 8). */
const BOOK_MARGIN_DIGITS = 8;
/** After-trade margin: the LP's per-position margin model vs the engine on the resulting book, same formula in another order: 1e-9 relative. */
const MARGIN_REL = 1e-9;
/** Budget row met to HiGHS's 1e-7 feasibility tolerance in scaled units: 1e-6 USD absolute on top. */
const BUDGET_SLACK_USD = 1e-6;
/** Portfolio margin reported vs the engine's PM on the netted book converted here (coin x index): 8 digits of USD. (was 6; tightened, passes at 8). */
const PM_DIGITS = 8;

/** One HiGHS instance for the file, loaded once (the solver is passed in, synchronous after). */
const solver = await loadLpSolver();

/** Engine margin of a book in USD, netting by instrument and converting here (independent of candidates.ts). */
function engineUsd(positions: readonly Position[], market: RiskMarket): number {
  const net = new Map<string, Position>();
  for (const p of positions) {
    const q = (net.get(p.instrument.name)?.quantity ?? 0) + p.quantity;
    net.set(p.instrument.name, { ...p, quantity: q });
  }
  const live = [...net.values()].filter((p) => Math.abs(p.quantity) > 0);
  if (live.length === 0) return 0;
  const m = standardBookMargin(live, market);
  let usd = 0;
  for (const [cur, v] of Object.entries(m.byCurrency))
    usd += v.initial * (cur === "USDC" ? 1 : (market.underlyings[cur]?.indexPrice ?? Number.NaN));
  return usd;
}

describe("optimizer margin = the core margin engine's standard margin", () => {
  const valuationTime = Date.UTC(2026, 1, 2, 8);
  const chain = syntheticChain({ underlying: "BTC", valuationTime, seed: 42 });
  const spec = (budget: number): OptimizeProblem["constraints"] => ({
    delta: { min: -2, max: 2 },
    marginBudgetUsd: budget,
  });
  const filter = { minDays: 7, maxDays: 120, minAbsDelta: 0.1, maxAbsDelta: 0.5, maxContracts: 20 };

  it("theta-selling under a binding budget: after.marginUsd = standardBookMargin(resulting book) to 1e-9", () => {
    const probe = optimizeProblemFromChain({
      chain,
      positions: [],
      spec: { objective: { kind: "theta" }, constraints: {} },
      filter,
    });
    const ins = probe.candidateSet.instruments;
    expect(ins.length).toBeGreaterThan(6);
    // A book with a held long and a held short in candidate instruments, and a perpetual.
    const positions: Position[] = [
      { instrument: ins[0] as Position["instrument"], quantity: 6 },
      { instrument: ins[3] as Position["instrument"], quantity: -4 },
      { instrument: instrumentFromName("BTC-PERPETUAL"), quantity: 50_000 },
    ];
    for (const budget of [0, 20_000, 60_000]) {
      const built = optimizeProblemFromChain({
        chain,
        positions,
        spec: { objective: { kind: "theta" }, constraints: spec(0) },
        filter,
      });
      const before = engineUsd(positions, built.market);
      expect(built.problem.book.marginUsd).toBeCloseTo(before, BOOK_MARGIN_DIGITS);
      const p = { ...built.problem, constraints: spec(before + budget) };
      const r = optimizePortfolio(p, solver);
      expect(r.status).toBe("optimal");
      const after: Position[] = [
        ...positions,
        ...r.trades.map((t) => ({
          instrument: built.candidateSet.instruments[t.index] as Position["instrument"],
          quantity: t.side === "buy" ? t.contracts : -t.contracts,
        })),
      ];
      const engine = engineUsd(after, built.market);
      expect(Math.abs(r.after.marginUsd - engine)).toBeLessThanOrEqual(MARGIN_REL * Math.max(1, engine));
      expect(engine).toBeLessThanOrEqual((before + budget) * (1 + MARGIN_REL) + BUDGET_SLACK_USD);
      expect(r.verification?.ok).toBe(true);
      const model = r.verification?.checks.find((c) => c.name === "margin model - engine");
      expect(Math.abs(model?.value ?? Number.NaN)).toBeLessThanOrEqual(MARGIN_REL * Math.max(1, engine));
      // Portfolio margin: the engine's figure on the same netted book, reported (not constrained).
      const net = new Map<string, Position>();
      for (const x of after)
        net.set(x.instrument.name, {
          ...x,
          quantity: (net.get(x.instrument.name)?.quantity ?? 0) + x.quantity,
        });
      const pm = portfolioMargin(
        [...net.values()].filter((x) => x.quantity !== 0),
        built.market,
      );
      let pmUsd = 0;
      for (const [cur, v] of Object.entries(pm.byCurrency))
        pmUsd += v.initial * (cur === "USDC" ? 1 : (built.market.underlyings[cur]?.indexPrice ?? Number.NaN));
      expect(r.after.portfolioMarginUsd).toBeCloseTo(pmUsd, PM_DIGITS);
      expect(r.notes.join(" ")).toMatch(/portfolio margin: the engine's Deribit PM/);
      if (budget === 0) {
        // No new margin allowed: only trades that do not add margin (buys, or selling the held long).
        expect(engine).toBeLessThanOrEqual(before * (1 + MARGIN_REL));
      }
      if (budget === 20_000) expect(r.binding.map((b) => b.name)).toContain("margin");
    }
  }, 60_000);

  it("selling a held long costs no margin until the position turns short (per position, netted)", () => {
    // Theta objective: selling S earns 1 USD/day per contract; held +5; margin 100 per net short.
    const p: OptimizeProblem = {
      candidates: [
        cand({
          name: "S",
          bidUsd: 10,
          askUsd: 10,
          fairUsd: 10,
          maxSell: 20,
          heldContracts: 5,
          marginShortUsd: 100,
          greeks: { ...G0, thetaUsdPerDay: -1 },
        }),
      ],
      book: book({ marginUsd: 250 }),
      objective: { kind: "theta" },
      constraints: { marginBudgetUsd: 550 },
    };
    const r = optimizePortfolio(p, solver);
    // 300 USD of new margin = 3 net short contracts: sells 5 (closing the long) + 3 = 8.
    expect(r.trades[0]?.side).toBe("sell");
    expect(r.trades[0]?.contracts).toBeCloseTo(8, LP_VERTEX_DIGITS);
    expect(r.after.marginUsd).toBeCloseTo(550, LP_VERTEX_DIGITS);
  });
});
