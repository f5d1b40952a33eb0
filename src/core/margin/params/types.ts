/**
 * Shapes of Deribit's portfolio-margin (PM) parameters, field by field as `private/pme/simulate`
 * returns them in `model_params` (snake_case names in the comments). The values live in one file
 * per settlement currency (btc.ts, eth.ts, usdc.ts), each citing its source; index.ts assembles
 * them. Where Deribit publishes a parameter's value but not the formula that uses it, the reading
 * chosen is written next to the field and in portfolioMargin.ts.
 */

/** Per currency pair (`model_params.currency_pair.<coin>_usd`): the risk matrix of one underlying. */
export interface PmPairParams {
  /** Deribit's key, e.g. "btc_usd". */
  readonly pair: string;
  /** price_range: the largest standard price move, relative (0.16 = +-16%). */
  readonly priceRange: number;
  /** volatility_range_up: relative up-shock of an option's IV at 30 days to expiry (0.5 = +50%). */
  readonly volatilityRangeUp: number;
  /** volatility_range_down: relative down-shock at 30 days (0.25 = -25%). */
  readonly volatilityRangeDown: number;
  /** short_term_vega_power: exponent p of (pivot / DTE)^p for DTE < vegaPowerPivotDays. */
  readonly shortTermVegaPower: number;
  /** long_term_vega_power: the exponent for DTE >= vegaPowerPivotDays. */
  readonly longTermVegaPower: number;
  /** Days at which the shock equals the range and the exponent switches (reading: 30, see btc.ts). */
  readonly vegaPowerPivotDays: number;
  /** min_volatility_for_shock_up: the up-shock is sized on max(IV, this) (reading, see btc.ts). */
  readonly minVolatilityForShockUp: number;
  /** extended_table_factor: multiplies the extended table's weight factor x priceRange / |move|. */
  readonly extendedTableFactor: number;
  /** max_delta_shock: fraction of the delta above the threshold charged (reading, see btc.ts). */
  readonly maxDeltaShock: number;
  /** delta_total_liq_shock_threshold, USD of delta: no delta shock below it. */
  readonly deltaTotalLiqShockThresholdUsd: number;
  /** m_inc: futures margin add-on per coin of position (0.00005 = 0.005% per BTC). */
  readonly mInc: number;
  /** Where the values come from. */
  readonly source: string;
}

/** Per settlement currency (`model_params.currency.<ccy>`). */
export interface PmCurrencyParams {
  /** Deribit's key: "btc", "eth", "usd" (USDC-settled books). */
  readonly currency: string;
  /** annualised_move_risk: roll shock per year to expiry of a future (relative to its size). */
  readonly annualisedMoveRisk: number;
  /** min_annualised_move: floor of the roll shock (relative), what a perpetual pays. */
  readonly minAnnualisedMove: number;
  /** extended_dampener, USD: extended-table losses up to this amount are not charged (reading). */
  readonly extendedDampenerUsd: number;
  /** pnl_offset: fraction of one pair's scenario gain that offsets another pair's loss. */
  readonly pnlOffset: number;
  /** max_offsetable_pnl, USD: cap on that offset (reading: USD). */
  readonly maxOffsetablePnlUsd: number;
  /**
   * haircut: cross-collateral haircut of this currency's equity, on the initial-margin side only
   * (Deribit "Cross collateral specifications": "For the purposes of calculating the initial margin
   * (IM), some cross collateral currencies may have a haircut applied"); 0 = none.
   */
  readonly haircut: number;
  /**
   * equity_side_impact: whether a balance of this currency moves with the risk-matrix scenarios
   * of cross portfolio margin (X:PM, crossPortfolioMargin): "both" = its USD value moves with its
   * pair's price in every cell (gains and losses), "none" = it does not (USD stablecoins).
   */
  readonly equitySideImpact: "both" | "none";
  /** Where the values come from. */
  readonly source: string;
}

/** The whole PM model: general parameters plus pairs (by underlying) and currencies. */
export interface PortfolioMarginParams {
  /** mm_factor: maintenance = mmFactor x initial (risk-matrix margin). */
  readonly mmFactor: number;
  /** buckets_count: price buckets on EACH side of zero (4 -> 9 points incl. 0). */
  readonly bucketsCount: number;
  /** vol_scenarios_count: up, same, down (only 3 is supported). */
  readonly volScenariosCount: number;
  /** Extended-table price moves (relative), valued with vol up only. */
  readonly extendedMoves: readonly number[];
  /** DTE floor (days) in the vega power law. */
  readonly minDteDays: number;
  /** Numerical floor of a shocked vol (decimal); not a Deribit parameter. */
  readonly volFloor: number;
  /** By underlying coin ("BTC", "ETH"). */
  readonly pairs: Readonly<Record<string, PmPairParams>>;
  /** By settlement currency as volfolio names it ("BTC", "ETH", "USDC"). */
  readonly currencies: Readonly<Record<string, PmCurrencyParams>>;
}
