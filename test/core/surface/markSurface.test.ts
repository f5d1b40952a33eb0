import { describe, expect, it } from "vitest";
import type { OptionContract } from "../../../src/core/instruments/types.js";
import type { CleanQuote, MarketSnapshot } from "../../../src/core/market/types.js";
import { markSurface } from "../../../src/core/surface/markSurface.js";

const T0 = Date.UTC(2026, 0, 2, 8);
const E = T0 + 0.25 * 365 * 86_400_000;
const F = 100_000;
/** A quoted strike's vol is returned as given (no inversion on the way): a few ulps of O(0.5); measured 0. */
const QUOTED_VOL_DIGITS = 14;
/** Between strikes: sqrt of a linear interpolation of total variance (k, w rounding, ~1e-16 x 1 / k-gap); 5e-13;
 * measured 0. */
const INTERPOLATED_VOL_DIGITS = 12;

function quote(
  strike: number,
  kind: "call" | "put",
  markVol: number | null,
  markIv: number | null = null,
): CleanQuote {
  const instrument: OptionContract = {
    type: "option",
    name: `BTC-X-${strike}-${kind}`,
    underlying: "BTC",
    kind,
    strike,
    expiry: E,
    settlement: "inverse",
    contractSize: 1,
  };
  return {
    instrument,
    timestamp: T0,
    bid: null,
    ask: null,
    mark: null,
    markIv,
    forward: F,
    timeToExpiry: 0.25,
    logMoneyness: Math.log(strike / F),
    bidVol: null,
    askVol: null,
    midVol: null,
    markVol,
  };
}

function snapshot(quotes: CleanQuote[]): MarketSnapshot {
  return {
    underlying: "BTC",
    valuationTime: T0,
    indexPrice: 99_500,
    forwards: [{ expiry: E, timeToExpiry: 0.25, forward: F, source: "venue-underlying" }],
    quotes,
  };
}

describe("markSurface: the surface through a chain's marks", () => {
  const kLo = -0.1;
  const kHi = 0.1;
  const Klo = F * Math.exp(kLo);
  const Khi = F * Math.exp(kHi);
  const s = markSurface(
    snapshot([
      quote(Klo, "put", 0.6),
      quote(Klo, "call", 0.99), // in the money below the forward: the put's mark is used
      quote(Khi, "call", 0.5),
    ]),
  );

  it("returns the out-of-the-money mark vol at a quoted strike", () => {
    expect(s!.impliedVol(kLo, 0.25)).toBeCloseTo(0.6, QUOTED_VOL_DIGITS);
    expect(s!.impliedVol(kHi, 0.25)).toBeCloseTo(0.5, QUOTED_VOL_DIGITS);
  });
  it("interpolates total variance linearly in k (doc example: sqrt((0.36 + 0.25) / 2) at k = 0)", () => {
    expect(s!.impliedVol(0, 0.25)).toBeCloseTo(Math.sqrt((0.36 + 0.25) / 2), INTERPOLATED_VOL_DIGITS);
  });
  it("is flat beyond the outermost strikes", () => {
    expect(s!.impliedVol(-1, 0.25)).toBeCloseTo(0.6, QUOTED_VOL_DIGITS);
    expect(s!.impliedVol(1, 0.25)).toBeCloseTo(0.5, QUOTED_VOL_DIGITS);
  });
  it("takes the venue mark IV when the mark price gave none, and is null without any mark", () => {
    const v = markSurface(snapshot([quote(Khi, "call", null, 0.47)]));
    expect(v!.impliedVol(kHi, 0.25)).toBeCloseTo(0.47, QUOTED_VOL_DIGITS);
    expect(markSurface(snapshot([quote(Khi, "call", null, null)]))).toBeNull();
  });
});
