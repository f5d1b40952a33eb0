/**
 * `volfolio demo --chain FILE`: the risk, stress and margin sections value the book on the loaded
 * chain. The chain is a small Deribit API JSON file written here, with mark prices that are
 * Black-76 prices at known vols on known forwards, so the report's greeks and scenario PnL are
 * checked against blackGreeks / blackPrice on those forwards and vols, written out here.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseDeribitExpiry } from "../../src/core/instruments/names.js";
import { syntheticChain } from "../../src/core/market/synthetic.js";
import { blackGreeks, blackPrice } from "../../src/core/pricing/black76.js";
import { loadPortfolioFile } from "../../src/adapters/portfolioFile.js";
import { portfolioGreeks } from "../../src/core/risk/greeks.js";
import { captureCli } from "../cli/capture.js";
import { blackChainRows } from "../helpers/deribitApi.js";

/** The report's forward is the chain's F (an interpolated USD figure ~1e5) through JSON: 6 digits are ~1e-11 relative, the interpolation's rounding. */
const FORWARD_DIGITS = 6;

/** Shock grid values are decimal steps built by arithmetic (k * 0.025 etc.): an ulp or two off 0.1 and 0. */
const SHOCK_DIGITS = 12;

/** The demo's --book-market greeks sum the same positions on the same market as portfolioGreeks here; only JSON and summation order differ on USD sums ~1e4-1e5: 6 digits. */
const BOOK_MARKET_USD_DIGITS = 6;
/** An unquoted strike's vol comes from the fitted smile, not a neighbour's quote: within 2 vol points outside its two quoted neighbours' range. */
const NEIGHBOUR_VOL_MARGIN = 0.02;
/** Mark vols solved from marks rounded to 10 digits agree to ~1e-8, so vega sums to ~1e-8 relative: 1e-6. */
const MARK_VOL_VEGA_REL = 1e-6;

const YEAR = 365 * 86_400_000;
const T0 = Date.UTC(2026, 4, 1, 8); // 2026-05-01: the sample book's 27MAR26 options have expired
const S = 100_000;
const FWD: Record<string, number> = { "26JUN26": 100_600, "25SEP26": 101_500 };
const STRIKES = [80, 85, 90, 95, 100, 105, 110, 115, 120].map((x) => x * 1000);
const iv = (code: string, K: number) => {
  const k = Math.log(K / (FWD[code] as number));
  return (code === "26JUN26" ? 0.5 : 0.55) - 0.15 * k + 0.4 * k * k;
};
const expiryOf = (code: string) => parseDeribitExpiry(code) as number;
const T = (code: string) => (expiryOf(code) - T0) / YEAR;

function chainJson(): string {
  return JSON.stringify(
    blackChainRows({
      time: T0,
      indexPrice: S,
      expiries: Object.keys(FWD).map((code) => ({ code, expiry: expiryOf(code) })),
      strikes: STRIKES,
      forward: (code) => FWD[code] as number,
      vol: iv,
      openInterest: 100,
    }),
  );
}

interface Report {
  book: {
    label: string;
    market: string;
    positions: number;
    valued: number;
    excluded: { instrument: string; reason: string; detail: string }[];
    expired: {
      instrument: string;
      settlementPrice: number;
      settlementSource: string;
      currency: string;
      value: number;
      detail: string;
    }[];
    options: { instrument: string; vol: number; source: string; forwardUsd: number }[];
    legs?: string[];
    notes: string[];
  };
  greeks: {
    rows: { underlying: string; vegaUsd: number; cashGammaUsd: number }[];
    totalUsd: Record<string, number>;
  };
  scenarios: { spotShocks: number[]; volShocks: number[]; pnl: number[][] };
  stress: unknown[];
  margin: { equityUsd: number };
  optimizer: {
    status: string;
    trades: { instrument: string; contracts: number }[];
    before: Record<string, number>;
    after: Record<string, number>;
    notes: string[];
  };
  valuationTime: string;
  unavailable: Record<string, string>;
}

const dir = mkdtempSync(join(tmpdir(), "volfolio-demo-chain-"));
const chainFile = join(dir, "chain.json");
writeFileSync(chainFile, chainJson());

async function demo(args: string[]): Promise<Report> {
  const r = await captureCli(["demo", "--no-serve", "--no-forecast", "--json", "--out", dir, ...args]);
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out) as Report;
}

/** A book for the --book runs: quoted, unquoted and unlisted legs, a perpetual, two exclusions. */
const BOOK = {
  positions: [
    { instrument: "BTC-26JUN26-110000-C", quantity: -10 },
    { instrument: "BTC-26JUN26-90000-P", quantity: 8 },
    { instrument: "BTC-25SEP26-100000-C", quantity: 5 },
    { instrument: "BTC_USDC-26JUN26-95000-P", quantity: -200 },
    { instrument: "BTC-26JUN26-107500-C", quantity: 2 }, // strike not quoted
    { instrument: "BTC-31JUL26-100000-C", quantity: 1 }, // expiry not listed, inside the range
    { instrument: "BTC-PERPETUAL", quantity: 20000 },
    { instrument: "BTC-27MAR26-90000-P", quantity: 8 }, // expired at the chain's time
    { instrument: "ETH-26JUN26-4000-C", quantity: 30 }, // no ETH chain
  ],
  cash: { BTC: 2, USDC: 50000 },
};
/** Cash delta of the book's inverse perpetual: 20,000 x 10 USD opened at the index. */
const PERP_CASH_DELTA = 200_000;

let bookReport: Promise<Report> | undefined;
/** `volfolio demo --chain <chain> --book <BOOK>`, run once for the tests that read it. */
function bookRun(): Promise<Report> {
  if (!bookReport) {
    const bookFile = join(dir, "book.json");
    writeFileSync(bookFile, JSON.stringify(BOOK));
    bookReport = demo(["--chain", chainFile, "--book", bookFile]);
  }
  return bookReport;
}

interface Leg {
  code: string;
  K: number;
  kind: "call" | "put";
  /** Signed quantity times contract size, coins. */
  m: number;
  vol: number;
  F?: number;
  T?: number;
  /** USDC-settled (linear); default inverse (coin-settled). */
  linear?: boolean;
}

/**
 * BOOK's valued option legs: quoted ones at the chain's F and mark vol, the two unquoted ones
 * at the vol the report states (the first test checks it lies inside its neighbours').
 */
function bookLegs(r: Report): Leg[] {
  const legs: Leg[] = [
    { code: "26JUN26", K: 110_000, kind: "call", m: -10, vol: iv("26JUN26", 110_000) },
    { code: "26JUN26", K: 90_000, kind: "put", m: 8, vol: iv("26JUN26", 90_000) },
    { code: "25SEP26", K: 100_000, kind: "call", m: 5, vol: iv("25SEP26", 100_000) },
    { code: "26JUN26", K: 95_000, kind: "put", m: -2, vol: iv("26JUN26", 95_000), linear: true },
    { code: "26JUN26", K: 107_500, kind: "call", m: 2, vol: r.book.options[4]?.vol as number },
  ];
  const tJul = (expiryOf("31JUL26") - T0) / YEAR;
  // Forward of an unlisted expiry: ln(F/S) linear in T between the listed ones.
  const lnF =
    Math.log(FWD["26JUN26"] as number) +
    (Math.log((FWD["25SEP26"] as number) / (FWD["26JUN26"] as number)) * (tJul - T("26JUN26"))) /
      (T("25SEP26") - T("26JUN26"));
  const vol = r.book.options[5]?.vol as number;
  legs.push({ code: "31JUL26", K: 100_000, kind: "call", m: 1, vol, F: Math.exp(lnF), T: tJul });
  return legs;
}

/**
 * Black-76 sums of option legs in the report's units (cash delta and gamma, vega per 1.00 vol).
 * Reference: Deribit's mark convention for inverse (coin-settled) options. The coin premium is
 * Black / F (Deribit's mark_price at the row's underlying_price F), held at the index S, so the
 * USD value is m (Black / F) S. With F = c S and c fixed under a spot move:
 *   cash delta = S d/dS = m g.delta S        (Black's forward delta, Deribit's `delta`, in coins x S)
 *   cash gamma = S^2 d2/dS2 / 100 = m g.gamma F S / 100
 *   vega = m g.vega S / F,  theta = m g.theta S / F / 365.
 * A linear (USDC) option is worth m Black: cash delta m g.delta F, cash gamma m g.gamma F^2 / 100.
 */
function blackSum(legs: readonly Leg[]) {
  const sum = { value: 0, cashDelta: 0, cashGamma: 0, vega: 0, theta: 0 };
  for (const l of legs) {
    const F = l.F ?? (FWD[l.code] as number);
    const g = blackGreeks({ forward: F, strike: l.K, expiry: l.T ?? T(l.code), vol: l.vol, kind: l.kind });
    // USD per Black dollar: S / F (inverse), 1 (linear); the spot-to-forward factor F / S.
    const q = l.linear ? 1 : S / F;
    sum.value += l.m * q * g.price;
    sum.cashDelta += l.m * q * g.delta * F;
    sum.cashGamma += (l.m * q * g.gamma * F * F) / 100;
    sum.vega += l.m * q * g.vega;
    sum.theta += (l.m * q * g.theta) / 365;
  }
  return sum;
}

/** USD PnL of a leg when spot and its forward move by `up` (relative), vol fixed (sticky strike). */
function legMovePnl(l: Leg, up: number): number {
  const F = l.F ?? (FWD[l.code] as number);
  const t = l.T ?? T(l.code);
  const price = (f: number) => blackPrice({ forward: f, strike: l.K, expiry: t, vol: l.vol, kind: l.kind });
  // Inverse: m (B(F') / F') S' with S' / F' = S / F; linear: m B(F').
  const q = l.linear ? 1 : S / F;
  return l.m * q * (price(F * (1 + up)) - price(F));
}

/** The report's figures (through JSON, exact) vs Black-76 sums written here on the same F and vols: summation order and USD conversions, 1e-9 relative (floor 1). */
const REPORT_VS_BLACK_REL = 1e-9;
/** |a - x| < REPORT_VS_BLACK_REL max(1, |x|). */
const close = (a: number | undefined, x: number) =>
  expect(Math.abs((a as number) - x)).toBeLessThan(REPORT_VS_BLACK_REL * Math.max(1, Math.abs(x)));

describe("volfolio demo --chain: the book is valued on the loaded chain", () => {
  it("greeks and scenario PnL equal Black-76 on the chain's forwards and mark vols; the expired leg is settled, the other-coin one excluded, both with the reason", async () => {
    const r = await bookRun();
    expect(r.valuationTime).toBe(new Date(T0).toISOString());
    const b = r.book;
    expect(b.positions).toBe(9);
    expect(b.valued + b.excluded.length + b.expired.length).toBe(9);
    expect(b.excluded.map((x) => [x.instrument, x.reason])).toEqual([
      ["ETH-26JUN26-4000-C", "underlying-not-in-market"],
    ]);
    // Expired 27 Mar, before the chain's 1 May: settled once at the chain's index (intrinsic of
    // the 90,000 put at 100,000 = 0), stated as such, and in no figure.
    expect(b.expired.map((x) => [x.instrument, x.settlementPrice, x.settlementSource, x.value])).toEqual([
      ["BTC-27MAR26-90000-P", S, "index-intrinsic", 0],
    ]);
    expect(b.expired[0]?.detail).toContain("delivery price unknown");
    expect(b.options.map((o) => [o.instrument, o.source])).toEqual([
      ["BTC-26JUN26-110000-C", "chain-mark"],
      ["BTC-26JUN26-90000-P", "chain-mark"],
      ["BTC-25SEP26-100000-C", "chain-mark"],
      ["BTC_USDC-26JUN26-95000-P", "chain-mark"],
      ["BTC-26JUN26-107500-C", "fitted-surface+mark-residual"],
      ["BTC-31JUL26-100000-C", "fitted-surface"],
    ]);
    // Greeks only of the excluded underlying are absent: no ETH row.
    expect(new Set(r.greeks.rows.map((x) => x.underlying))).toEqual(new Set(["BTC"]));

    // Independent recomputation: quoted options at the chain's F and mark vol, the two
    // unquoted ones at the vol the report states (checked to lie inside their neighbours').
    const legs = bookLegs(r);
    const v107 = b.options[4]?.vol as number;
    expect(v107).toBeGreaterThan(
      Math.min(iv("26JUN26", 105_000), iv("26JUN26", 110_000)) - NEIGHBOUR_VOL_MARGIN,
    );
    expect(v107).toBeLessThan(
      Math.max(iv("26JUN26", 105_000), iv("26JUN26", 110_000)) + NEIGHBOUR_VOL_MARGIN,
    );
    const jul = legs[5] as Leg;
    expect(b.options[5]?.forwardUsd).toBeCloseTo(jul.F as number, FORWARD_DIGITS);
    const sum = { ...blackSum(legs), up10: 0 };
    sum.cashDelta += PERP_CASH_DELTA;
    const up = r.scenarios.spotShocks[8] as number; // +10%
    expect(up).toBeCloseTo(0.1, SHOCK_DIGITS);
    expect(r.scenarios.volShocks[4]).toBeCloseTo(0, SHOCK_DIGITS);
    // Sticky strike: the option keeps its vol when spot and forwards move by +10%.
    for (const l of legs) sum.up10 += legMovePnl(l, up);
    // Inverse perpetual, 200,000 USD opened at the index: PnL = 200,000 x 10% in USD.
    sum.up10 += PERP_CASH_DELTA * up;
    const tot = r.greeks.totalUsd;
    close(tot.valueUsd, sum.value);
    close(tot.cashDeltaUsd, sum.cashDelta);
    close(tot.cashGammaUsd, sum.cashGamma);
    close(tot.vegaUsd, sum.vega);
    close(tot.thetaUsdPerDay, sum.theta);
    close(r.scenarios.pnl[4]?.[8], sum.up10);
    close(r.scenarios.pnl[4]?.[6], 0);
    // Equity: cash at the chain's index plus the book's value.
    close(r.margin.equityUsd, 2 * S + 50_000 + sum.value);
    expect(r.stress.length).toBeGreaterThan(0);
  }, 120_000);

  it("optimizer: 'before' is the greeks section's book; 'after' is book + chosen trades on the chain's forwards and mark vols", async () => {
    const r = await bookRun();
    const o = r.optimizer;
    expect(o, r.unavailable.optimizer).toBeDefined();
    expect(o.status).toBe("optimal");
    expect(o.trades.length).toBeGreaterThan(0);
    const notes = o.notes.join(" | ");
    expect(notes).toContain("book and candidates valued on the risk sections' market: the BTC chain");
    expect(notes).toContain(
      "1 book legs expired before the market's time, settled and left out: BTC-27MAR26-90000-P",
    );
    expect(notes).toContain(
      "1 book positions the market cannot value left out: ETH-26JUN26-4000-C (underlying-not-in-market)",
    );
    // Before = the greeks section (a BTC-only valued book): deltaCoin is coins (cash delta / S),
    // vega per vol point (x100 = per 1.00 vol).
    const tot = r.greeks.totalUsd;
    close((o.before.deltaCoin as number) * S, tot.cashDeltaUsd as number);
    close(o.before.cashGammaUsd, tot.cashGammaUsd as number);
    close((o.before.vegaUsdPerVolPt as number) * 100, tot.vegaUsd as number);
    close(o.before.thetaUsdPerDay, tot.thetaUsdPerDay as number);
    // After = book + trades, every trade at its chain forward and mark vol (one BTC per contract).
    const trades = o.trades.map((t): Leg => {
      const m = /^BTC-(\w+)-(\d+)-([CP])$/.exec(t.instrument);
      if (!m) throw new Error(`unexpected trade instrument ${t.instrument}`);
      const [code, K] = [m[1] as string, Number(m[2])];
      expect(FWD[code], t.instrument).toBeDefined();
      return { code, K, kind: m[3] === "C" ? "call" : "put", m: t.contracts, vol: iv(code, K) };
    });
    const x = blackSum([...bookLegs(r), ...trades]);
    close((o.after.deltaCoin as number) * S, x.cashDelta + PERP_CASH_DELTA);
    close(o.after.cashGammaUsd, x.cashGamma);
    close((o.after.vegaUsdPerVolPt as number) * 100, x.vega);
    close(o.after.thetaUsdPerDay, x.theta);
    // The trades moved the book (else "after" = "before" would prove nothing).
    expect(
      Math.abs((o.after.vegaUsdPerVolPt as number) - (o.before.vegaUsdPerVolPt as number)),
    ).toBeGreaterThan(1);
  }, 120_000);

  it("without --book, places the sample book's legs on the chain by tenor and moneyness", async () => {
    const r = await demo(["--chain", chainFile]);
    const b = r.book;
    expect(b.label).toMatch(
      /^default demo book: the BTC legs of examples\/book\.json placed on the loaded chain/,
    );
    expect(b.excluded).toEqual([]);
    expect(b.valued).toBe(7);
    // 27MAR26 (53 days from 2 Feb) -> 26JUN26 (56 days from 1 May); 26JUN26 (144 days) -> 25SEP26 (147).
    expect(b.legs).toEqual([
      "BTC-27MAR26-110000-C -10 -> BTC-26JUN26-110000-C -10 (56d)",
      "BTC-27MAR26-90000-P 8 -> BTC-26JUN26-90000-P 8 (56d)",
      "BTC-26JUN26-100000-C 5 -> BTC-25SEP26-100000-C 5 (147d)",
      "BTC-26JUN26-80000-P -6 -> BTC-25SEP26-80000-P -6 (147d)",
      "BTC_USDC-27MAR26-95000-P -200 -> BTC_USDC-26JUN26-95000-P -200 (56d)",
      "BTC-PERPETUAL 20000 -> BTC-PERPETUAL 20000",
      "BTC-26JUN26 -10000 -> BTC-25SEP26 -10000 (147d)",
    ]);
    expect(b.notes.join(" ")).toContain("ETH-27MAR26-3000-P");
    expect(b.options.every((o) => o.source === "chain-mark")).toBe(true);
    expect(r.greeks.totalUsd.vegaUsd).toBeLessThan(0);
  }, 120_000);

  it("--book-market values the book on its file's market section; a book without one says so", async () => {
    const sample = join(__dirname, "../../examples/book.json");
    const r = await demo(["--chain", chainFile, "--book", sample, "--book-market"]);
    expect(r.book.market).toMatch(/^the book file's own market section \(--book-market\)/);
    const f = await loadPortfolioFile(sample);
    const g = portfolioGreeks(f.positions, f.market as NonNullable<typeof f.market>).totalUsd;
    expect(r.greeks.totalUsd.vegaUsd).toBeCloseTo(g.vegaUsd, BOOK_MARKET_USD_DIGITS);
    expect(r.greeks.totalUsd.valueUsd).toBeCloseTo(g.valueUsd, BOOK_MARKET_USD_DIGITS);
    const bare = join(dir, "bare.json");
    writeFileSync(bare, JSON.stringify({ positions: [{ instrument: "BTC-PERPETUAL", quantity: 1 }] }));
    const n = await demo(["--chain", chainFile, "--book", bare, "--book-market"]);
    expect(n.unavailable.greeks).toBe(
      "load book failed: book has no market section (--book-market values the book on it)",
    );
  }, 120_000);

  it("the default run values the sample book on the synthetic chains at their mark vols", async () => {
    const r = await demo([]);
    const b = r.book;
    expect(b.label).toBe("examples/book.json");
    expect(b.valued).toBe(10);
    expect(b.market).toContain("synthetic ETH chain (seed 43)");
    // BTC options vs an independent recomputation on the same seeded synthetic chain.
    const t0 = Date.UTC(2026, 1, 2, 8);
    const c = syntheticChain({
      underlying: "BTC",
      valuationTime: t0,
      seed: 42,
      spot: 100_000,
      markNoise: 0.002,
    });
    // [name in the chain, quantity, contract size, inverse]: BTC_USDC-27MAR26-95000-P is linear.
    const legs: [string, number, number, boolean][] = [
      ["BTC-27MAR26-110000-C", -10, 1, true],
      ["BTC-27MAR26-90000-P", 8, 1, true],
      ["BTC-26JUN26-100000-C", 5, 1, true],
      ["BTC-26JUN26-80000-P", -6, 1, true],
      ["BTC-27MAR26-95000-P", -200, 0.01, false],
    ];
    let vega = 0;
    for (const [name, qty, size, inverse] of legs) {
      const q = c.quotes.find((x) => x.instrument.name === name);
      if (!q) throw new Error(`${name} not in the synthetic chain`);
      const F = q.underlyingPrice as number;
      const K = q.instrument.strike;
      // The out-of-the-money side's mark vol at that strike.
      const otm = K < F ? "put" : "call";
      const side = c.quotes.find(
        (x) =>
          x.instrument.expiry === q.instrument.expiry &&
          x.instrument.strike === K &&
          x.instrument.kind === otm,
      );
      const vol = side?.markIv as number;
      // Deribit's convention: an inverse option's USD vega is Black's vega x S / F.
      const usdPerBlack = inverse ? c.indexPrice / F : 1;
      vega +=
        qty *
        size *
        usdPerBlack *
        blackGreeks({
          forward: F,
          strike: K,
          expiry: (q.instrument.expiry - t0) / YEAR,
          vol,
          kind: q.instrument.kind,
        }).vega;
    }
    const btcVega = r.greeks.rows.filter((x) => x.underlying === "BTC").reduce((s, x) => s + x.vegaUsd, 0);
    expect(Math.abs(btcVega - vega) / Math.abs(vega)).toBeLessThan(MARK_VOL_VEGA_REL);
  }, 120_000);
});
