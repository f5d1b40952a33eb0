import { describe, expect, it } from "vitest";
import { buildOptimizeLp } from "../../../src/core/optimize/buildProblem.js";
import { lpToCplexText } from "../../../src/core/optimize/highsAdapter.js";
import { cvarLabel } from "../../../src/core/optimize/explain.js";
import { optimizePortfolio } from "../../../src/core/optimize/optimize.js";
import type { OptimizeProblem } from "../../../src/core/optimize/spec.js";
import { book, cand, G0, LP_DUAL_DIGITS, LP_VERTEX_DIGITS } from "./helpers.js";
import { loadLpSolver } from "../../../src/core/optimize/lpSolver.js";

/** USD of 1e5-1e7 and coin greeks of 1e-4 are scaled to order 1 before HiGHS; the vertex comes back through the scale factors: 10 digits on 10-20 contracts. (was 8; tightened, passes at 10). */
const SCALED_VERTEX_DIGITS = 10;
/** The objective over its hand value (2.525e6 USD) after unscaling: a few ulp of the ratio, 14 digits. (was 12; tightened, passes at 14). */
const SCALED_OBJECTIVE_DIGITS = 14;

/** One HiGHS instance for the file, loaded once (the solver is passed in, synchronous after). */
const solver = await loadLpSolver();

describe("binding constraints and shadow prices", () => {
  it("a ranged band whose MIN side binds: positive shadow price, side 'min'", () => {
    // Sell S (edge 2/contract, delta -1) as much as possible; delta band [-3, 3] -> 3 contracts.
    const p: OptimizeProblem = {
      candidates: [
        cand({
          name: "S",
          fairUsd: 10,
          bidUsd: 12,
          askUsd: 13,
          maxSell: 100,
          greeks: { ...G0, deltaCoin: 1 },
        }),
      ],
      book: book(),
      objective: { kind: "edge" },
      constraints: { delta: { min: -3, max: 3 } },
    };
    const r = optimizePortfolio(p, solver);
    expect(r.trades[0]?.contracts).toBeCloseTo(3, LP_VERTEX_DIGITS);
    const b = r.binding.find((x) => x.name === "delta");
    expect(b?.side).toBe("min");
    expect(b?.bound).toBeCloseTo(-3, LP_VERTEX_DIGITS);
    // Loosening the min by 1 coin (to -4) allows 1 more contract: +2 USD edge.
    expect(b?.shadowPriceUsd).toBeCloseTo(2, LP_DUAL_DIGITS);
    expect(b?.text).toMatch(/delta binds at >= -3.00 coin/);
  });

  it("the explanation says which book greek a trade offsets", () => {
    const p: OptimizeProblem = {
      candidates: [
        cand({ name: "V", fairUsd: 10, bidUsd: 10.5, askUsd: 11, greeks: { ...G0, vegaUsdPerVolPt: 20 } }),
      ],
      book: book({ greeks: { ...G0, vegaUsdPerVolPt: -100 } }),
      objective: { kind: "vega-target", targetUsdPerVolPt: 0 },
      constraints: {},
    };
    const r = optimizePortfolio(p, solver);
    expect(r.trades[0]?.side).toBe("buy");
    expect(r.trades[0]?.contracts).toBeCloseTo(5, LP_VERTEX_DIGITS);
    expect(r.trades[0]?.explanation).toMatch(
      /^buys 5 V: pays 5.00 USD over fair after fees and slippage; offsets -vega of the book \(100\)/,
    );
  });
});

describe("numerics: scaling avoids tolerance traps", () => {
  it("USD magnitudes of 1e7 with coin greeks of 1e-4: exact optimum recovered", () => {
    // Edge 1e5 USD per contract on A (delta 1e-4 coin), 5e4 on B (delta -2e-4); |delta| <= 1e-4.
    // max 1e5 a + 5e4 b s.t. -1e-4 <= 1e-4 a - 2e-4 b <= 1e-4, a, b <= 20  ->  a = 20, b = 10.5 (delta = -1e-4).
    const p: OptimizeProblem = {
      candidates: [
        cand({
          name: "A",
          fairUsd: 1e7,
          bidUsd: 1e7 - 2e5,
          askUsd: 1e7 - 1e5,
          maxBuy: 20,
          greeks: { ...G0, deltaCoin: 1e-4 },
        }),
        cand({
          name: "B",
          fairUsd: 1e7,
          bidUsd: 1e7 - 1e5,
          askUsd: 1e7 - 5e4,
          maxBuy: 20,
          greeks: { ...G0, deltaCoin: -2e-4 },
        }),
      ],
      book: book(),
      objective: { kind: "edge" },
      constraints: { delta: { min: -1e-4, max: 1e-4 } },
    };
    const r = optimizePortfolio(p, solver);
    const q = Object.fromEntries(r.trades.map((t) => [t.name, t.contracts]));
    expect(q.A).toBeCloseTo(20, SCALED_VERTEX_DIGITS);
    expect(q.B).toBeCloseTo(10.5, SCALED_VERTEX_DIGITS);
    expect(r.objectiveUsd / (20 * 1e5 + 10.5 * 5e4)).toBeCloseTo(1, SCALED_OBJECTIVE_DIGITS);
    expect(r.verification?.ok).toBe(true);
  });

  it("LP text: ranged rows split in two, equality rows use '=', free columns 'free'", () => {
    const p: OptimizeProblem = {
      candidates: [cand({ name: "X", pnl: [1, -1], greeks: { ...G0, deltaCoin: 0.5 } })],
      book: book({ pnl: [0, 0] }),
      objective: { kind: "edge" },
      constraints: { delta: { min: -1, max: 1 }, cvar: { alpha: 0.5, maxLossUsd: 5 } },
    };
    const lp = buildOptimizeLp(p);
    const { text } = lpToCplexText(lp);
    expect(text).toMatch(/ r0_lo: .* >= -2\n/);
    expect(text).toMatch(/ r0_hi: .* <= 2\n/);
    expect(text).toMatch(/ c\d+ free\n/);
    expect(text).toMatch(/ r\d+: \+ 1 c\d+ - 1 c0 \+ 1 c1 = 0\n/);
  });
});

describe("trade lines and labels say what they are", () => {
  it("theta objective: the line leads with the theta the trade adds (the objective)", () => {
    const p: OptimizeProblem = {
      candidates: [
        cand({
          name: "T",
          bidUsd: 10,
          askUsd: 10.5,
          fairUsd: 10,
          maxSell: 4,
          greeks: { ...G0, thetaUsdPerDay: -2.5 },
        }),
      ],
      book: book(),
      objective: { kind: "theta" },
      constraints: {},
    };
    const r = optimizePortfolio(p, solver);
    expect(r.trades[0]?.side).toBe("sell");
    // Selling 4 contracts of theta -2.5 USD/day each adds +10 USD/day.
    expect(r.trades[0]?.explanation).toMatch(/^sells 4 T: theta \+10\.00 USD\/day \(the objective\)/);
  });

  it("edge in vol points: paid above fair is negative, sold above fair positive; fees not in it", () => {
    const p: OptimizeProblem = {
      candidates: [
        // Ask vol 0.52 vs fair 0.50: buying costs 2 vol points (negative edge).
        cand({
          name: "B",
          fairUsd: 10,
          bidUsd: 9,
          askUsd: 10.4,
          fairVol: 0.5,
          askVol: 0.52,
          bidVol: 0.45,
          maxBuy: 1,
          maxSell: 0,
          greeks: { ...G0, vegaUsdPerVolPt: 1 },
        }),
        // Bid vol 0.53 vs fair 0.50: selling earns 3 vol points.
        cand({
          name: "S",
          fairUsd: 10,
          bidUsd: 10.6,
          askUsd: 11,
          fairVol: 0.5,
          bidVol: 0.53,
          askVol: 0.55,
          maxBuy: 0,
          maxSell: 1,
          greeks: { ...G0, vegaUsdPerVolPt: 1 },
        }),
      ],
      book: book(),
      objective: { kind: "vega-target", targetUsdPerVolPt: 0, penaltyUsd: 100 },
      constraints: {},
      costs: { feePerContractUsd: 0.1 },
    };
    const r = optimizePortfolio(p, solver);
    const line = (n: string) => r.trades.find((t) => t.name === n)?.explanation ?? "";
    expect(line("B")).toMatch(
      /edge -2\.00 vol pts at the quote vs the surface's fair vol, fees not in it \(paid above fair = negative\)/,
    );
    expect(line("S")).toMatch(/edge \+3\.00 vol pts at the quote/);
    // USD edge includes the 0.1 fee: buy B at 10.4 vs fair 10 -> pays 0.5 USD over fair after fees.
    expect(line("B")).toMatch(/pays 0\.500 USD over fair after fees and slippage/);
  });

  it("the CVaR label names the tail: worst (1-a) S of S equally weighted scenarios", () => {
    expect(cvarLabel(0.95, 27, "grid scenarios")).toBe(
      "CVaR 95%: mean loss of the worst 1.35 of 27 equally weighted grid scenarios",
    );
    expect(cvarLabel(0.9, 20)).toBe("CVaR 90%: mean loss of the worst 2 of 20 equally weighted scenarios");
    expect(cvarLabel(0.99, 27)).toMatch(/worst 0\.270 of 27 .*less than one scenario/);
  });
});
