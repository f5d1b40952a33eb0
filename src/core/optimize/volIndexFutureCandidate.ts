/**
 * A vol-index future (Deribit's DVOL future, instruments/volInstruments.ts) as an optimizer
 * candidate: ONE instrument, valued by the core (risk/valuation.ts valuePosition through
 * risk/volValuation.ts: fair = 100 sqrt(V_fwd) exp(-omega^2 tau / 8) from the market's surface, the
 * forward 30-day variance after expiry; omega = the market's volOfVariance, absent: 0). Entered at
 * the fair (fairUsd 0, as a future at its mark); its greeks are positionGreeks (vega by a parallel
 * bump of the surface; delta and gamma 0: the surface is spot-free in log-moneyness), its scenario
 * and stress PnL the core's full revaluation (risk/grid.ts scenarioPnlMatrix: valuePosition on each
 * scenario's market). Cost: a stated half-spread in index points each side (the stored data has no
 * DVOL futures quotes), halfSpreadPoints x contractSize USD per contract. Margin: the exchange
 * margin engine does not cover vol instruments (it refuses them), so none is charged here and the
 * result's margin figures leave DVOL futures out (said in the notes).
 * Units: USD per contract; contractSize USD per index point (Deribit's is unverified, see
 * volInstruments.ts); vega USD per vol point.
 */
import type { VolIndexFutureContract } from "../instruments/types.js";
import { volIndexFutureContract } from "../instruments/volInstruments.js";
import { expiryBucket, positionGreeks } from "../risk/greeks.js";
import { scenarioPnlMatrix } from "../risk/grid.js";
import type { RiskMarket } from "../risk/market.js";
import type { Scenario } from "../risk/scenario.js";
import { volIndexFutureState } from "../risk/volValuation.js";
import type { OptimizeCandidate } from "./spec.js";

/** Default half-spread of a DVOL future, index points (assumed: the data has no DVOL futures quotes). */
export const DVOL_FUTURE_HALF_SPREAD_POINTS = 0.25;

export interface VolIndexFutureCandidate {
  readonly candidate: OptimizeCandidate;
  readonly instrument: VolIndexFutureContract;
  /** The core's fair value, index points. */
  readonly fairPoints: number;
}

/** The DVOL future of `expiry` on `underlying` as a candidate (see the module comment). */
export function volIndexFutureCandidate(o: {
  readonly underlying: string;
  readonly expiry: number;
  readonly market: RiskMarket;
  readonly scenarios: readonly Scenario[];
  readonly stressScenarios?: readonly Scenario[];
  /** Index points each side (default DVOL_FUTURE_HALF_SPREAD_POINTS). */
  readonly halfSpreadPoints?: number;
  /** Largest trade either way, contracts (default 1e6). */
  readonly maxContracts?: number;
  readonly contractSize?: number;
}): VolIndexFutureCandidate {
  const instrument = volIndexFutureContract({
    underlying: o.underlying,
    expiry: o.expiry,
    ...(o.contractSize !== undefined ? { contractSize: o.contractSize } : {}),
  });
  // Entry absent: the core enters it at its fair (valuePosition 0, resolveFutureEntries).
  const one = { instrument, quantity: 1 };
  const fairPoints = volIndexFutureState(instrument, o.market).fair;
  const g = positionGreeks(one, o.market);
  const pnl = (scenarios: readonly Scenario[]) =>
    scenarioPnlMatrix({ positions: [one], market: o.market, scenarios })[0] ?? new Float64Array(0);
  const cost = (o.halfSpreadPoints ?? DVOL_FUTURE_HALF_SPREAD_POINTS) * instrument.contractSize;
  const max = o.maxContracts ?? 1e6;
  const stress = o.stressScenarios && o.stressScenarios.length > 0 ? pnl(o.stressScenarios) : null;
  return {
    instrument,
    fairPoints,
    candidate: {
      name: instrument.name,
      bucket: expiryBucket(instrument.expiry, o.market.valuationTime),
      bidUsd: -cost,
      askUsd: cost,
      fairUsd: 0,
      greeks: {
        deltaCoin: g.deltaUnderlyingCoin,
        cashGammaUsd: g.cashGammaUsd,
        vegaUsdPerVolPt: g.vegaUsd * 0.01,
        thetaUsdPerDay: g.thetaUsdPerDay,
      },
      maxBuy: max,
      maxSell: max,
      marginShortUsd: 0,
      minTradeContracts: 1,
      scenarioPnlUsd: pnl(o.scenarios),
      ...(stress ? { stressPnlUsd: stress } : {}),
    },
  };
}
