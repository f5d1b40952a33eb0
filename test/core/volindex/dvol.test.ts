/**
 * The DVOL method (core/volindex/dvol.ts) against references written here: the closed-form
 * variance of a flat smile (sigma^2), the log-contract integral truncated at the wing floor's
 * strikes (solved from the delta in closed form, integrated by fine quadrature), hand-built strips
 * for each rule, the interquartile mean by hand, and invariances (fast-check).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { deribitOptionName } from "../../../src/core/instruments/names.js";
import { normalizeChain } from "../../../src/core/market/normalize.js";
import type { ChainSnapshot, OptionQuote } from "../../../src/core/market/types.js";
import { inverseNormCdf } from "../../../src/core/math/normal.js";
import { blackPrice } from "../../../src/core/pricing/black76.js";
import {
  dvolExpiryVariance,
  dvolIndex,
  dvolSmooth,
  syntheticForward,
} from "../../../src/core/volindex/dvol.js";
import { expiryVariance } from "../../../src/core/volindex/modelFreeVariance.js";

/** Model-free strip of a flat smile on a 1600-strike grid: midpoint quadrature and wing truncation leave < 0.1% of vol^2. */
const FLAT_STRIP_REL = 1e-3;

/** The strip's K0 mid is (call + put) / 2 of the quoted Black prices (USD ~1e4 from coin x index): 9 digits. */
const MID_DIGITS = 9;

/** (F/K0 - 1)^2 / T on ~1e-3: the same three operations, rounding ~1e-19. */
const CORRECTION_DIGITS = 15;

/** timeToExpiry x 365 of whole-day expiries: exact to an ulp of ~16-44 days. */
const YEAR_FRACTION_DIGITS = 9;

/** Cboe's 30-day interpolation in total variance, written here, vs the module: rounding on ~50 vol points. */
const CBOE_STEP3_DIGITS = 10;

/** Mean of 120 equal values 41: summation rounding only. */
const SMOOTH_DIGITS = 12;

const T0 = Date.UTC(2026, 0, 10, 9, 0, 0);
/** Same sums in another order or scaled exactly: float rounding of a few dozen terms. */
const FLOAT_REL = 1e-12;
/** Parity forward from Black-76 coin prices: K / (1 - (c - p)) loses ~1e-12 to cancellation near F. */
const PARITY_REL = 1e-9;
/** The same strip with a quote filled from its own mark (bid = ask = mark): identical terms, summation order at most. */
const FLOAT_DIGITS = 12;
/** The discrete floored strip vs the midpoint integral written here between the same delta floors: the strip's strike spacing, 0.2%. */
const FLOORED_STRIP_REL = 2e-3;
/** The default wing floor (dvol.ts rule 5, measured against DVOL at the instant), written here. */
const FLOOR_DELTA = 0.05;
/** The delta floor removes a few % of a flat 60% smile's variance (0.9666 of vol^2 at 0.05): below 0.98. */
const FLOORED_SHARE_MAX = 0.98;
/** Locating a whole-day expiry by timeToExpiry x 365: exact to an ulp, any slack below a second does. */
const DAY_MATCH = 1e-9;
/** Strikes, forwards and USD prices scaled by lambda in [0.01, 100]: relative rounding of the strip sums. */
const SCALE_REL = 1e-9;
const DAY = 86_400_000;

interface ExpirySpec {
  days: number;
  forward: number;
  strikes: number[];
  vol: (K: number, F: number) => number;
}
type Tweak = (q: OptionQuote) => OptionQuote | null;

/** A Deribit-like inverse chain: coin prices = Black-76(F, K, T, vol) / F, bid = ask = mark. */
function chainOf(specs: ExpirySpec[], tweak: Tweak = (q) => q, underlying = "BTC"): ChainSnapshot {
  const quotes: OptionQuote[] = [];
  for (const s of specs) {
    const expiry = T0 + s.days * DAY;
    const T = (s.days * DAY) / (365 * DAY);
    for (const K of s.strikes)
      for (const kind of ["call", "put"] as const) {
        const coin =
          blackPrice({ forward: s.forward, strike: K, expiry: T, vol: s.vol(K, s.forward), kind }) /
          s.forward;
        const q: OptionQuote = {
          instrument: {
            type: "option",
            name: deribitOptionName({ underlying, expiry, strike: K, kind }),
            underlying,
            kind,
            strike: K,
            expiry,
            settlement: "inverse",
            contractSize: 1,
          },
          timestamp: T0,
          bid: coin,
          ask: coin,
          mark: coin,
          underlyingPrice: s.forward,
        };
        const t = tweak(q);
        if (t) quotes.push(t);
      }
  }
  return { underlying, valuationTime: T0, indexPrice: specs[0]?.forward ?? 1, quotes };
}

const grid = (F: number, sd: number, n: number, width = 8) =>
  Array.from(
    { length: n + 1 },
    (_, i) => Math.round(F * Math.exp(-width * sd + (2 * width * sd * i) / n) * 100) / 100,
  );
const flat = (v: number) => () => v;

function oneExpiry(chain: ChainSnapshot, options = {}) {
  const snap = normalizeChain(chain).snapshot;
  const r = dvolExpiryVariance(snap.quotes, options);
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

describe("DVOL-method variance of one expiry", () => {
  it("flat smile, dense strikes, no wing floor: the variance is vol^2 (closed form) to 1e-3", () => {
    for (const [vol, days] of [
      [0.5, 30],
      [0.8, 21],
      [0.35, 45],
    ] as const) {
      const T = days / 365;
      const F = 90_000;
      const v = oneExpiry(
        chainOf([{ days, forward: F, strikes: grid(F, vol * Math.sqrt(T), 1600), vol: flat(vol) }]),
        {
          minDelta: 0,
        },
      );
      expect(Math.abs(v.variance / (vol * vol) - 1)).toBeLessThan(FLAT_STRIP_REL);
    }
  });

  it("flat smile with the default floor: the log-contract integral between the 0.05-delta strikes", () => {
    const vol = 0.6;
    const days = 30;
    const T = days / 365;
    const F = 3_000;
    const sd = vol * Math.sqrt(T);
    const v = oneExpiry(
      chainOf([{ days, forward: F, strikes: grid(F, sd, 4000), vol: flat(vol) }], (q) => q, "ETH"),
    );
    // Strikes where |forward delta| = FLOOR_DELTA (call: N(d1) = 0.05; put: N(d1) = 0.95), from d1.
    const kAt = (d1: number) => F * Math.exp(-d1 * sd + (sd * sd) / 2);
    const kCall = kAt(inverseNormCdf(FLOOR_DELTA));
    const kPut = kAt(inverseNormCdf(1 - FLOOR_DELTA));
    // (2/T) int OTM(K)/K^2 dK over [kPut, kCall], midpoint rule in log-strike (dK/K^2 = dk/K).
    const n = 200_000;
    const a = Math.log(kPut);
    const b = Math.log(kCall);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const K = Math.exp(a + ((i + 0.5) * (b - a)) / n);
      const otm = blackPrice({ forward: F, strike: K, expiry: T, vol, kind: K < F ? "put" : "call" });
      sum += (otm / K) * ((b - a) / n);
    }
    const ref = (2 / T) * sum;
    expect(ref / (vol * vol)).toBeLessThan(FLOORED_SHARE_MAX);
    expect(Math.abs(v.variance / ref - 1)).toBeLessThan(FLOORED_STRIP_REL);
  });

  it("keeps the wing behind two missing bids (the Cboe method stops there)", () => {
    const F = 100;
    const strikes = [70, 75, 80, 85, 90, 95, 100, 105, 110, 115, 120, 125, 130];
    const T = 30 / 365;
    const chain = chainOf(
      [{ days: 30, forward: F, strikes, vol: (K) => 0.8 + 0.004 * Math.abs(K - 100) }],
      (q) =>
        q.instrument.kind === "put" && (q.instrument.strike === 85 || q.instrument.strike === 80)
          ? { ...q, bid: null }
          : q,
    );
    const v = oneExpiry(chain, { markFillDelta: 1 });
    const used = v.contributions.map((c) => c.strike);
    expect(used).toContain(75);
    expect(used).toContain(70);
    expect(used).not.toContain(80);
    expect(used).not.toContain(85);
    expect(v.discarded["no-bid-or-ask"]).toBe(2);
    // The Cboe rule on the same quotes (USD on F) ends the put wing at the two missing bids.
    const snap = normalizeChain(chain).snapshot;
    const byK = new Map<
      number,
      { callBid: number | null; callAsk: number | null; putBid: number | null; putAsk: number | null }
    >();
    for (const q of snap.quotes) {
      const e = byK.get(q.instrument.strike) ?? { callBid: null, callAsk: null, putBid: null, putAsk: null };
      const usd = (x: number | null) => (x === null ? null : x * F);
      if (q.instrument.kind === "call") Object.assign(e, { callBid: usd(q.bid), callAsk: usd(q.ask) });
      else Object.assign(e, { putBid: usd(q.bid), putAsk: usd(q.ask) });
      byK.set(q.instrument.strike, e);
    }
    const cboe = expiryVariance({
      quotes: [...byK].map(([strike, e]) => ({ strike, ...e })),
      timeToExpiry: T,
      forward: F,
    });
    expect(cboe.ok && cboe.value.contributions.map((c) => c.strike)).not.toContain(75);
    // With the stop switched on (the measured alternative) and no wing floor, the DVOL strip is the
    // Cboe strip of modelFreeVariance, written independently: same strikes, same variance.
    const stopped = oneExpiry(chain, { markFillDelta: 1, zeroBidStop: true, minDelta: 0, forward: "chain" });
    expect(stopped.discarded["beyond-zero-bids"]).toBe(4); // puts 85, 80 (the zero bids), 75, 70
    if (!cboe.ok) throw new Error(cboe.message);
    expect(stopped.contributions.map((c) => c.strike)).toEqual(cboe.value.contributions.map((c) => c.strike));
    expect(Math.abs(stopped.variance / cboe.value.variance - 1)).toBeLessThan(FLOAT_REL);
  });

  it("price 'mark' (the measured alternative) prices every instrument at Deribit's mark, not the mid", () => {
    const spec = {
      days: 30,
      forward: 100,
      strikes: [70, 80, 90, 95, 100, 105, 110, 120, 130],
      vol: flat(0.8),
    };
    // Quotes skewed around the mark: mid = 1.1 x mark on every instrument.
    const skewed = chainOf([spec], (q) => ({ ...q, bid: (q.mark ?? 0) * 0.9, ask: (q.mark ?? 0) * 1.3 }));
    const o = { minDelta: 0, forward: "chain" } as const;
    const atMarks = oneExpiry(chainOf([spec]), o);
    const relErr = (a: number, b: number) => Math.abs(a / b - 1);
    expect(relErr(oneExpiry(skewed, { ...o, price: "mark" }).variance, atMarks.variance)).toBeLessThan(
      FLOAT_REL,
    );
    // By mids every Q(K) is 1.1 x the mark's: the strip sum scales by 1.1 (the K0 term is the same).
    const byMid = oneExpiry(skewed, o);
    expect(
      relErr(byMid.variance + byMid.correction, 1.1 * (atMarks.variance + atMarks.correction)),
    ).toBeLessThan(FLOAT_REL);
  });

  it("K0 is the strike at or below F: calls below and puts above it are discarded, both averaged at K0", () => {
    const F = 101.3;
    const v = oneExpiry(
      chainOf([{ days: 30, forward: F, strikes: [80, 90, 95, 100, 105, 110, 120], vol: flat(0.9) }]),
      { minDelta: 0 },
    );
    expect(v.k0).toBe(100);
    expect(v.discarded.itm).toBe(6); // calls 80, 90, 95 and puts 105, 110, 120
    const at = v.contributions.find((c) => c.strike === 100);
    expect(at?.kind).toBe("put-call-average");
    const T = 30 / 365;
    const c = blackPrice({ forward: F, strike: 100, expiry: T, vol: 0.9, kind: "call" });
    const p = blackPrice({ forward: F, strike: 100, expiry: T, vol: 0.9, kind: "put" });
    expect(at?.mid).toBeCloseTo((c + p) / 2, MID_DIGITS);
    expect(v.correction).toBeCloseTo((F / 100 - 1) ** 2 / T, CORRECTION_DIGITS);
    // dK on the filtered strikes: one-sided at the ends, centred inside.
    expect(v.contributions.map((x) => x.strikeWidth)).toEqual([10, 7.5, 5, 5, 5, 7.5, 10]);
  });

  it("near the money a quote without a bid is priced at its mark; in the wings it is discarded", () => {
    const F = 100;
    const strikes = [60, 70, 80, 85, 90, 95, 100, 105, 110, 115, 120, 130, 140];
    const noBid: Tweak = (q) =>
      q.instrument.kind === "put" && (q.instrument.strike === 95 || q.instrument.strike === 60)
        ? { ...q, bid: null }
        : q;
    const spec = { days: 30, forward: F, strikes, vol: flat(0.7) };
    const filled = oneExpiry(chainOf([spec], noBid), { minDelta: 0.001 });
    expect(filled.markFilled).toBe(1); // the 95 put (|delta| ~0.4); the 60 put (|delta| ~0.01) is not filled
    expect(filled.contributions.map((c) => c.strike)).toContain(95);
    expect(filled.contributions.map((c) => c.strike)).not.toContain(60);
    const full = oneExpiry(chainOf([spec]), { minDelta: 0.001 });
    const without60 = oneExpiry(
      chainOf([spec], (q) => (q.instrument.kind === "put" && q.instrument.strike === 60 ? null : q)),
      {
        minDelta: 0.001,
      },
    );
    // The mark is the quote's own price here (bid = ask = mark), so the fill restores it exactly.
    expect(filled.variance).toBeCloseTo(without60.variance, FLOAT_DIGITS);
    expect(full.variance).toBeGreaterThan(without60.variance);
    const holed = oneExpiry(chainOf([spec], noBid), { minDelta: 0.001, markFillDelta: 1 });
    expect(holed.markFilled).toBe(0);
    expect(holed.contributions.map((c) => c.strike)).not.toContain(95);
  });

  it("discards wide quotes and quotes below the delta floor, counting each reason", () => {
    const F = 100;
    const strikes = [50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150];
    const wide: Tweak = (q) =>
      q.instrument.kind === "call" && q.instrument.strike === 120
        ? { ...q, bid: (q.bid as number) * 0.3, ask: (q.ask as number) * 1.5 }
        : q;
    const v = oneExpiry(chainOf([{ days: 20, forward: F, strikes, vol: flat(0.6) }], wide), {
      maxRelativeSpread: 1,
      minDelta: 0.045,
    });
    expect(v.discarded["wide-spread"]).toBe(1);
    expect(v.contributions.map((c) => c.strike)).not.toContain(120);
    // Independent count of the options below 0.045 |delta| at 60% vol, 20 days.
    const T = 20 / 365;
    const sd = 0.6 * Math.sqrt(T);
    let below = 0;
    for (const K of strikes) {
      const d1 = Math.log(F / K) / sd + sd / 2;
      const n = (x: number) => 0.5 * erfcApprox(-x / Math.SQRT2);
      // Out-of-the-money side only: calls above K0 = 100, puts below (the 120 call is the wide one).
      if (K > 100 && K !== 120 && n(d1) < 0.045) below++;
      if (K < 100 && 1 - n(d1) < 0.045) below++;
    }
    expect(below).toBeGreaterThan(0);
    expect(v.discarded["below-min-delta"]).toBe(below);
  });
});

/** erfc to ~1e-7 (Numerical Recipes erfcc), written here as an independent reference. */
function erfcApprox(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

describe("DVOL-method index: eligible expiries and interpolation", () => {
  const F = 90_000;
  const full = (days: number, vol: number): ExpirySpec => ({
    days,
    forward: F,
    strikes: grid(F, vol * Math.sqrt(days / 365), 60, 3.5),
    vol: flat(vol),
  });

  it("a newly listed expiry with a handful of strikes is skipped for the next eligible one", () => {
    const fresh: ExpirySpec = {
      days: 24,
      forward: F,
      strikes: [84_000, 86_000, 88_000, 90_000, 92_000, 94_000],
      vol: flat(0.9),
    };
    const r = dvolIndex(normalizeChain(chainOf([full(16, 0.5), fresh, full(44, 0.6)])).snapshot);
    expect(r.near.timeToExpiry * 365).toBeCloseTo(16, YEAR_FRACTION_DIGITS);
    expect(r.next.timeToExpiry * 365).toBeCloseTo(44, YEAR_FRACTION_DIGITS);
    const issue = r.all.find((e) => Math.abs(e.timeToExpiry * 365 - 24) < DAY_MATCH)?.issue;
    expect(issue).toBe("too-few-strikes");
    // Cboe step 3 written here: total variance interpolated between 16 and 44 days, at 30.
    const t1 = 16 / 365;
    const t2 = 44 / 365;
    const t = 30 / 365;
    const ref =
      100 *
      Math.sqrt(
        ((t1 * r.near.variance * (t2 - t)) / (t2 - t1) + (t2 * r.next.variance * (t - t1)) / (t2 - t1)) / t,
      );
    expect(r.index).toBeCloseTo(ref, CBOE_STEP3_DIGITS);
    expect(r.bracketed).toBe(true);
    // Without the rule, the 6-strike weekly (90% vol, strip far short of the wings) is the near expiry.
    const loose = dvolIndex(normalizeChain(chainOf([full(16, 0.5), fresh, full(44, 0.6)])).snapshot, {
      minStrikes: 2,
      edgeDelta: 0.49,
    });
    expect(loose.near.timeToExpiry * 365).toBeCloseTo(24, YEAR_FRACTION_DIGITS);
  });

  it("fewer than two eligible expiries is a typed error naming the chain", () => {
    expect(() => dvolIndex(normalizeChain(chainOf([full(20, 0.5)])).snapshot)).toThrow(/eligible expiries/);
    expect(() =>
      dvolIndex(normalizeChain(chainOf([full(20, 0.5), full(40, 0.5)])).snapshot, { minDelta: 0.7 }),
    ).toThrow(/minDelta/);
  });

  it("scale invariance: strikes and forwards times lambda, same coin prices, same index (fast-check)", () => {
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 100, noNaN: true }), (lambda) => {
        const base = [full(12, 0.55), full(37, 0.62)];
        const scaled = base.map((s) => ({
          ...s,
          forward: s.forward * lambda,
          strikes: s.strikes.map((K) => K * lambda),
        }));
        const a = dvolIndex(normalizeChain(chainOf(base)).snapshot).index;
        const b = dvolIndex(normalizeChain(chainOf(scaled)).snapshot).index;
        return Math.abs(a - b) < SCALE_REL * a;
      }),
      { numRuns: 25 },
    );
  });

  it("the order of the quotes does not matter (fast-check)", () => {
    const chain = chainOf([full(9, 0.7), full(23, 0.6), full(51, 0.55)]);
    const ref = dvolIndex(normalizeChain(chain).snapshot).index;
    fc.assert(
      fc.property(
        fc.array(fc.nat(), { minLength: chain.quotes.length, maxLength: chain.quotes.length }),
        (keys) => {
          const order = chain.quotes.map((q, i) => ({ q, k: keys[i] as number })).sort((x, y) => x.k - y.k);
          const shuffled = { ...chain, quotes: order.map((x) => x.q) };
          return dvolIndex(normalizeChain(shuffled).snapshot).index === ref;
        },
      ),
      { numRuns: 20 },
    );
  });
});

describe("syntheticForward (DVOL methodology [D2]: the forward of the smallest |call mid - put mid|)", () => {
  // Exact put-call parity of Black-76 prices at forward F: C - P = F - K (USD), (F - K) / F (coin).
  const quotesAt = (F: number, strikes: number[], tweak: Tweak = (q) => q) =>
    normalizeChain(chainOf([{ days: 30, forward: F, strikes, vol: flat(0.6) }], tweak)).snapshot.quotes;

  it("recovers the parity forward of inverse (coin) quotes to 1e-9 relative, off the strike grid", () => {
    fc.assert(
      fc.property(fc.double({ min: 20_000, max: 200_000, noNaN: true }), (F) => {
        const strikes = [0.8, 0.9, 0.95, 1, 1.05, 1.1, 1.2].map((m) => Math.round((F * m) / 500) * 500);
        const got = syntheticForward(quotesAt(F, [...new Set(strikes)]));
        return got !== null && Math.abs(got / F - 1) < PARITY_REL;
      }),
      { numRuns: 50 },
    );
  });

  it("averages the forwards of tied strikes and needs two strikes with both a call and a put mid", () => {
    // F midway between 99,000 and 101,000: |c - p| ties there; both imply F exactly.
    expect(
      Math.abs((syntheticForward(quotesAt(100_000, [99_000, 101_000])) ?? 0) / 100_000 - 1),
    ).toBeLessThan(PARITY_REL);
    // Only one strike with both sides two-sided quoted: no synthetic (the chain's forward is used).
    const oneFull = quotesAt(100_000, [95_000, 100_000, 105_000], (q) =>
      q.instrument.strike !== 100_000 && q.instrument.kind === "call" ? { ...q, bid: null, ask: null } : q,
    );
    expect(syntheticForward(oneFull)).toBeNull();
  });
});

describe("dvolSmooth (DVOL's interquartile mean of the last 120 raw values)", () => {
  it("drops the lowest and highest quarter and averages the rest", () => {
    expect(dvolSmooth([8, 1, 7, 2, 6, 3, 5, 4], 8)).toBe(4.5); // keeps 3, 4, 5, 6
    expect(dvolSmooth([10, 50, 50, 50, 90])).toBe(50); // n = 5: floor(5/4) = 1 dropped each side
    const raw = Array.from({ length: 200 }, (_, i) => (i < 80 ? 1000 : 40 + (i % 3)));
    expect(dvolSmooth(raw)).toBeCloseTo(41, SMOOTH_DIGITS); // only the last 120 points count
    expect(() => dvolSmooth([])).toThrow(/raw.length/);
    expect(() => dvolSmooth([1, Number.NaN])).toThrow(/raw/);
  });
});
