/**
 * `volfolio` math (part of the package root): normal distribution, root finding, least squares, simplex search,
 * seeded random numbers and summary statistics. Numeric kernels used only inside core stay internal.
 */
export {
  brentRoot,
  createRng,
  erf,
  erfc,
  inverseNormCdf,
  levenbergMarquardt,
  mean,
  nelderMead,
  normCdf,
  normPdf,
  quantile,
  stdev,
  sum,
  variance,
} from "../core/math/index.js";
export type {
  BrentRoot,
  BrentRootFailure,
  BrentRootOptions,
  LeastSquaresProblem,
  LevenbergMarquardtOptions,
  LevenbergMarquardtResult,
  LevenbergMarquardtStop,
  NelderMeadOptions,
  NelderMeadResult,
  Rng,
} from "../core/math/index.js";
export { lowerBound, lowerBoundBy, upperBound, upperBoundBy } from "../core/math/search.js";
