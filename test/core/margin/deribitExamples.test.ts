/**
 * Deribit's own published portfolio-margin figures, reproduced. References (not this code):
 * 1. Deribit API reference, private/pme/simulate, documented response example
 *    (docs.deribit.com/api-reference/account-management/private-simulate; model_params timestamp
 *    1718619740501 = 2024-06-17T10:22:20Z): BTC account, BTC-PERPETUAL +0.314538364 BTC and
 *    BTC-28JUN24 -0.001187534 BTC, index 65666.19, 28JUN24 mark 67371.75 ->
 *    aggregated_risk_vectors, worst_case 0.05968587238095239 at index 1 (bucket 1, left),
 *    roll_shock 0.00315725898, risk_matrix_margin 0.06284313098, maintenance 0.050274504784
 *    (= 0.8 x risk_matrix_margin; Deribit's initial_margin adds MMP and open-order margins).
 * 2. A live private/pme/simulate response (ETH, 2026-02-15T23:20:09Z, timestamp 1771197609587)
 *    captured in a public file: ETH-PERPETUAL -0.999487053 ETH at index 1949.34 -> worst_case
 *    0.15246412672881357 at index 25 (bucket 9, right), roll_shock 0.004997435265, initial
 *    0.157461562265, maintenance 0.125969249812; aggregated gains = 0.6 x pre-aggregated gains
 *    (pnl_offset 0.6); aggregated extended vector all 0 (dampened).
 * Deribit's risk_matrix_margin is worst_case ROUNDED TO 1e-9 plus roll_shock (0.06284313098 =
 * 0.059685872 + 0.00315725898; 0.157461562265 = 0.152464127 + 0.004997435265), so totals are
 * compared to within 1e-9 absolute, the parts to 1e-12 relative.
 * Futures sizes are Deribit's "size in base currency" = USD notional / mark; volfolio values a
 * perpetual at the index, so the notional here is size x index (the PnL per coin of size,
 * 1 - 1/(1+s), does not depend on the price level).
 */
import { describe, expect, it } from "vitest";
import type { Position } from "../../../src/core/instruments/types.js";
import { portfolioMargin } from "../../../src/core/margin/portfolioMargin.js";
import type { RiskMarket } from "../../../src/core/risk/market.js";
import { flatSurface } from "../../../src/core/surface/types.js";
import { fut } from "../risk/fixtures.js";

/** Vector entries and worst case: Deribit returns them with 16-17 significant digits, we recompute the same double formulas: a few ulps apart. */
const DERIBIT_FULL_DIGITS_REL = 1e-12;
/** Roll shock printed by Deribit to 9 significant digits (0.00315725898, 0.004997435265). */
const DERIBIT_ROLL_REL = 1e-10;
/** risk_matrix_margin and maintenance: Deribit rounds worst_case to 1e-9 before adding roll_shock (header), so totals agree to 1e-9 absolute. */
const DERIBIT_TOTAL_ABS = 1e-9;

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

describe("Deribit API reference example (BTC, 2024-06-17)", () => {
  const t = 1718619740501;
  const jun28 = Date.UTC(2024, 5, 28, 8);
  const S = 65666.19;
  const market: RiskMarket = {
    valuationTime: t,
    underlyings: {
      BTC: { indexPrice: S, forwards: [{ expiry: jun28, forward: 67371.75 }], surface: flatSurface(0.5) },
    },
  };
  const book: Position[] = [
    { instrument: fut({ contractSize: 1 }), quantity: 0.314538364 * S },
    { instrument: fut({ expiry: jun28, contractSize: 1 }), quantity: -0.001187534 * 67371.75 },
  ];
  const pm = portfolioMargin(book, market);
  const btc = pm.byCurrency.BTC!;
  it("aggregated standard vector, worst case and its bucket", () => {
    const published = [
      -0.05968587238095239, -0.04272965863636364, -0.02724789826086957, -0.013056284583333334, 0, 0, 0, 0, 0,
    ];
    published.forEach((x, b) => {
      for (let v = 0; v < 3; v++) {
        const got = btc.vectors.standard[3 * b + v]!;
        if (x === 0) expect(got).toBe(0);
        else expect(rel(got, x)).toBeLessThan(DERIBIT_FULL_DIGITS_REL);
      }
    });
    expect(btc.vectors.extended).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(rel(btc.risk, 0.05968587238095239)).toBeLessThan(DERIBIT_FULL_DIGITS_REL);
    expect(btc.worstCase).toMatchObject({ source: "standard", index: 1, bucket: 1, side: "left" });
  });
  it("pre-aggregated extended entries of futures are their +-16% entries", () => {
    const perpAtMinus16 = -0.05991206933333334 + 0.0002261969523809524;
    const atPlus16 = 0.043384601931034494 - 0.00016379779310344832;
    const ext = btc.pairs.BTC!.extended;
    expect(rel(ext[0]!, perpAtMinus16)).toBeLessThan(DERIBIT_FULL_DIGITS_REL);
    expect(rel(ext[1]!, perpAtMinus16)).toBeLessThan(DERIBIT_FULL_DIGITS_REL);
    for (let k = 2; k < 8; k++) expect(rel(ext[k]!, atPlus16)).toBeLessThan(DERIBIT_FULL_DIGITS_REL);
  });
  it("roll shock, risk-matrix margin and maintenance", () => {
    expect(rel(btc.rollShock, 0.00315725898)).toBeLessThan(DERIBIT_ROLL_REL);
    expect(btc.deltaShock).toBe(0);
    expect(Math.abs(btc.initial - 0.06284313098)).toBeLessThan(DERIBIT_TOTAL_ABS);
    expect(Math.abs(btc.maintenance - 0.050274504784)).toBeLessThan(DERIBIT_TOTAL_ABS);
  });
});

describe("live Deribit response (ETH, 2026-02-15)", () => {
  const t = 1771197609587;
  const S = 1949.34;
  const market: RiskMarket = {
    valuationTime: t,
    underlyings: { ETH: { indexPrice: S, forwards: [], surface: flatSurface(0.6) } },
  };
  const book: Position[] = [
    { instrument: fut({ underlying: "ETH", contractSize: 1 }), quantity: -0.999487053 * S },
  ];
  const eth = portfolioMargin(book, market).byCurrency.ETH!;
  it("worst case at +18% (bucket 9, index 25), roll shock 0.5% of size, MM = 0.8 IM", () => {
    expect(rel(eth.risk, 0.15246412672881357)).toBeLessThan(DERIBIT_FULL_DIGITS_REL);
    expect(eth.worstCase).toMatchObject({ source: "standard", index: 25, bucket: 9, side: "right" });
    expect(rel(eth.rollShock, 0.004997435265)).toBeLessThan(DERIBIT_ROLL_REL);
    expect(Math.abs(eth.initial - 0.157461562265)).toBeLessThan(DERIBIT_TOTAL_ABS);
    expect(Math.abs(eth.maintenance - 0.125969249812)).toBeLessThan(DERIBIT_TOTAL_ABS);
  });
  it("pnl_offset 0.6 on gains; extended table dampened to 0", () => {
    const pre = [0.21939959699999997, 0.155989308849711, 0.09885036787912087, 0.04709624857068063];
    const agg = [0.13163975819999998, 0.09359358530982659, 0.05931022072747252, 0.028257749142408375];
    pre.forEach((x, b) => {
      expect(rel(eth.pairs.ETH!.standard[3 * b]!, x)).toBeLessThan(DERIBIT_FULL_DIGITS_REL);
      expect(rel(eth.vectors.standard[3 * b + 1]!, agg[b]!)).toBeLessThan(DERIBIT_FULL_DIGITS_REL);
    });
    expect(rel(eth.vectors.standard[24]!, -0.15246412672881357)).toBeLessThan(DERIBIT_FULL_DIGITS_REL);
    expect(eth.vectors.extended).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });
});
