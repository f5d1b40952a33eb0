/**
 * Distance to liquidation: the smallest spot move (down and up, vols unchanged, sticky-strike)
 * and the smallest parallel vol move (up and down, spot unchanged) whose full-revaluation loss
 * exhausts `equityUsd - maintenanceUsd` (the equity above maintenance; maintenance held at its
 * current value). Found by bisection on the book's USD PnL (grid.ts) to 1e-6 relative spot /
 * 1e-6 vol; null when no move inside the searched range (spot -99%..+1000%, vol -vol..+5.00)
 * exhausts it.
 */
import { requireFinite } from "../errors.js";
import type { Position } from "../instruments/types.js";
import { compileBook, scenarioPortfolioPnl } from "../risk/grid.js";
import type { RiskMarket } from "../risk/market.js";
import type { Scenario } from "../risk/scenario.js";

export interface LiquidationDistance {
  /** Buffer that can be lost, USD. */
  readonly bufferUsd: number;
  /** Relative spot move (negative) that exhausts the buffer, or null. */
  readonly spotDown: number | null;
  readonly spotUp: number | null;
  /** Absolute vol move (decimal) that exhausts the buffer, or null. */
  readonly volUp: number | null;
  readonly volDown: number | null;
}

function firstCrossing(loss: (x: number) => number, buffer: number, end: number): number | null {
  // Scan outward in 200 steps, then bisect the first bracket.
  const n = 200;
  let prev = 0;
  for (let i = 1; i <= n; i++) {
    const x = (end * i) / n;
    if (loss(x) >= buffer) {
      let lo = prev;
      let hi = x;
      for (let k = 0; k < 60 && Math.abs(hi - lo) > 1e-7; k++) {
        const mid = (lo + hi) / 2;
        if (loss(mid) >= buffer) hi = mid;
        else lo = mid;
      }
      return hi;
    }
    prev = x;
  }
  return null;
}

/** Distance to liquidation of a book (see the module comment). */
export function liquidationDistance(o: {
  readonly positions: readonly Position[];
  readonly market: RiskMarket;
  readonly equityUsd: number;
  readonly maintenanceUsd: number;
}): LiquidationDistance {
  const buffer = requireFinite("equityUsd", o.equityUsd) - requireFinite("maintenanceUsd", o.maintenanceUsd);
  const book = compileBook(o.positions, o.market);
  const lossOf = (s: Scenario) => -(scenarioPortfolioPnl(book, [s])[0] as number);
  if (buffer <= 0) return { bufferUsd: buffer, spotDown: 0, spotUp: 0, volUp: 0, volDown: 0 };
  const minVol = Math.min(
    ...Object.values(o.market.underlyings).map((m) => m.surface.impliedVol(0, 30 / 365)),
  );
  return {
    bufferUsd: buffer,
    spotDown: firstCrossing((x) => lossOf({ spotShift: x, volShift: 0 }), buffer, -0.99),
    spotUp: firstCrossing((x) => lossOf({ spotShift: x, volShift: 0 }), buffer, 10),
    volUp: firstCrossing((x) => lossOf({ spotShift: 0, volShift: x }), buffer, 5),
    volDown: firstCrossing((x) => lossOf({ spotShift: 0, volShift: x }), buffer, -Math.max(minVol - 0.01, 0)),
  };
}
