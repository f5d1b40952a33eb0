/**
 * `volfolio/hedge`: delta-hedging policies, no-trade bands, trading costs and hedging studies.
 */
export {
  DEFAULT_COSTS,
  hedgeBandHalfWidth,
  hedgeFill,
  hedgeTrade,
  optionFeeUsd,
  resolveCostModel,
  simulateHedgedOption,
  validateHedgePolicy,
  whalleyWilmottHalfWidth,
  zakamoulineHalfWidth,
} from "../core/hedge/index.js";
export type {
  BandInputs,
  CostModel,
  FillCost,
  HedgeInstrument,
  HedgePolicy,
  HedgeState,
  HedgeStudyInput,
  HedgeStudyResult,
} from "../core/hedge/index.js";
