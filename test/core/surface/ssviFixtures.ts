/**
 * The synthetic chains shared by the SSVI and eSSVI fit tests: an exact power-law SSVI surface
 * (quotes at 33 strikes, four expiries) and a raw SVI chain outside the SSVI family.
 */
import { ssviSurface } from "../../../src/core/surface/interpolate.js";
import { sviTotalVariance } from "../../../src/core/surface/svi.js";
import { linspace, syntheticSlice } from "./helpers.js";

/** Log-moneyness of the synthetic quotes. */
export const ks = linspace(-0.8, 0.8, 33);

/** The true power-law SSVI parameters. */
export const truth = { rho: -0.3, eta: 1.1, gamma: 0.35 };

/** The true nodes: expiry (years) and ATM total variance theta. */
export const nodes = [
  { expiry: 0.05, theta: 0.02 },
  { expiry: 0.2, theta: 0.06 },
  { expiry: 0.5, theta: 0.14 },
  { expiry: 1, theta: 0.26 },
];

export const truthSurface = ssviSurface(truth, nodes);

/** Exact SSVI quotes at each node. */
export const slices = nodes.map((n) =>
  syntheticSlice((k) => truthSurface.totalVariance(k, n.expiry), n.expiry, ks),
);

/** A raw SVI chain that is not SSVI (three expiries). */
export const sviSlices = [
  { T: 0.05, p: { a: 0.004, b: 0.05, rho: 0.1, m: 0.0, sigma: 0.08 } },
  { T: 0.3, p: { a: 0.02, b: 0.1, rho: -0.2, m: 0.02, sigma: 0.2 } },
  { T: 0.8, p: { a: 0.06, b: 0.12, rho: -0.3, m: 0.05, sigma: 0.3 } },
].map((s) => syntheticSlice((k) => sviTotalVariance(s.p, k), s.T, ks));
