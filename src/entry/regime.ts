/**
 * `volfolio/regime`: realized-vol estimators, GARCH(1,1), HMM regimes and the short-vol signal.
 */
export {
  DEFAULT_REGIME_TRACKER,
  fitGarch,
  fitHmm,
  garchForecastVariance,
  garchLogLikelihood,
  garchVolTermStructure,
  hmmViterbi,
  REALIZED_VOL_ESTIMATORS,
  realizedVol,
  regimeReport,
  RegimeTracker,
  rollingRealizedVol,
  shortVolExposureSignal,
  simulateGarch,
  simulateHmm,
  syntheticDailyBars,
  varianceRiskPremium,
  windowRealizedVol,
} from "../core/regime/index.js";
export type {
  GarchFit,
  GarchParams,
  HmmFit,
  HmmParams,
  OhlcBar,
  RealizedVolEstimator,
  RegimeReport,
  RegimeReportOptions,
  RegimeSignalView,
  RegimeTrackerConfig,
  ShortVolSignal,
  ShortVolSignalInputs,
  SyntheticBars,
  SyntheticBarsOptions,
} from "../core/regime/index.js";
