// Public API of core/backtest (filled in by the area's owner).
export {};
