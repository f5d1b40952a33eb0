/**
 * The backtest's daily PnL attribution: the PnL explain of core/risk/pnlExplain.ts (window types,
 * `closeAttributionWindow`, module comment with the terms) re-exported where the backtest's API
 * has always offered it; dailyAttribution.ts opens and closes the engine's daily windows.
 */
export * from "../risk/pnlExplain.js";
