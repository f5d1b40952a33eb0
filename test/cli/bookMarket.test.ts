/**
 * `volfolio risk | stress | margin | optimize --book FILE <market>`: one market, one valuation.
 *
 * The chain is a small Deribit API JSON file written here whose mark prices are Black-76 prices at
 * known vols on known forwards, so the greeks are checked against an independent sum written out
 * here under Deribit's mark convention (an inverse option's USD value is (Black / F) x index), and
 * every command (risk, stress base case, margin, optimize "before", the demo) must report the same
 * figures for the same book and chain. Expired legs: settled once, listed, in no figure.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDeribitExpiry } from "../../src/core/instruments/names.js";
import { syntheticChain } from "../../src/core/market/synthetic.js";
import { blackGreeks } from "../../src/core/pricing/black76.js";
import { apiOptionRows, blackChainRows } from "../helpers/deribitApi.js";
import { captureCli } from "./capture.js";

/** --json prints full doubles (the old 6-significant-digit rounding was off by up to 5e-7): the CLI's sums vs the reference's over the same legs differ by summation order only. */
const FULL_PRECISION_REL = 1e-12;

/** USD figures ~1e5 (index x coin, equity sums ~3e5) through JSON: rounding ~1e-11, 6 digits. */
const USD_DIGITS = 6;

/** An expired ITM leg's settlement value in coin is exactly 1: rounding of one division at most. */
const COIN_DIGITS = 12;

const ROOT = resolve(__dirname, "../..");
const SAMPLE_BOOK = join(ROOT, "examples/book.json");
const SAMPLE_SPEC = join(ROOT, "examples/optimize-spec.json");
const YEAR = 365 * 86_400_000;
const T0 = Date.UTC(2026, 4, 1, 8); // 2026-05-01T08:00Z
const S = 100_000;
const FWD: Record<string, number> = { "26JUN26": 100_600, "25SEP26": 101_500 };
const STRIKES = [80, 85, 90, 95, 100, 105, 110, 115, 120].map((x) => x * 1000);
const iv = (code: string, K: number) => {
  const k = Math.log(K / (FWD[code] as number));
  return (code === "26JUN26" ? 0.5 : 0.55) - 0.15 * k + 0.4 * k * k;
};
const T = (code: string) => ((parseDeribitExpiry(code) as number) - T0) / YEAR;

function chainJson(): string {
  return JSON.stringify(
    blackChainRows({
      time: T0,
      indexPrice: S,
      expiries: Object.keys(FWD).map((code) => ({ code, expiry: parseDeribitExpiry(code) as number })),
      strikes: STRIKES,
      forward: (code) => FWD[code] as number,
      vol: iv,
    }),
  );
}

const dir = mkdtempSync(join(tmpdir(), "volfolio-book-market-"));
const CHAIN = join(dir, "chain.json");
writeFileSync(CHAIN, chainJson());

/** Live legs: quoted inverse options, a linear (USDC) option and an inverse perpetual. */
const LIVE = [
  { instrument: "BTC-26JUN26-110000-C", quantity: -10 },
  { instrument: "BTC-26JUN26-90000-P", quantity: 8 },
  { instrument: "BTC-25SEP26-100000-C", quantity: 5 },
  { instrument: "BTC_USDC-26JUN26-95000-P", quantity: -200 },
  { instrument: "BTC-PERPETUAL", quantity: 20000 },
];
/** Expired the day before the chain's time (30 Apr 2026 08:00): a 110,000 put, 10 contracts. */
const EXPIRED = { instrument: "BTC-30APR26-110000-P", quantity: 10 };
/** The book file's own parametric market at the chain's instant (for --book-market). */
const MARKET = {
  valuationTime: new Date(T0).toISOString(),
  underlyings: {
    BTC: {
      indexPrice: S,
      atmVol: 0.5,
      skew: -0.1,
      curvature: 0.3,
      forwards: Object.entries(FWD).map(([code, forward]) => ({
        expiry: new Date(parseDeribitExpiry(code) as number).toISOString(),
        forward,
      })),
    },
  },
};
const book = (name: string, doc: unknown) => {
  const p = join(dir, name);
  writeFileSync(p, typeof doc === "string" ? doc : JSON.stringify(doc));
  return p;
};
const LIVE_BOOK = book("live.json", { positions: LIVE, cash: { BTC: 2, USDC: 50000 }, market: MARKET });
const EXPIRED_BOOK = book("expired.json", {
  positions: [...LIVE, EXPIRED],
  cash: { BTC: 2, USDC: 50000 },
  market: MARKET,
});
const CSV_BOOK = book(
  "book.csv",
  `instrument,quantity,entryPrice\n${LIVE.map((p) => `${p.instrument},${p.quantity},`).join("\n")}\n`,
);
const SPEC = book("spec.json", {
  underlying: "BTC",
  objective: { kind: "vega-target", targetUsdPerVolPt: 0, penaltyUsd: 50 },
  constraints: { delta: { min: -5, max: 5 } },
  costs: { feePerContractUsd: 3, slippageSpreadFraction: 0.1 },
  candidates: { minDays: 1, maxDays: 400, maxContracts: 10 },
  scenarios: { spotShifts: [-0.2, 0, 0.2], volShifts: [-0.05, 0, 0.05] },
});

// biome-ignore lint/suspicious/noExplicitAny: parsed --json output
type Json = any;
async function json(argv: string[], env: Record<string, string> = {}): Promise<{ d: Json; err: string }> {
  const r = await captureCli([...argv, "--json"], env);
  expect(r.code, r.err).toBe(0);
  return { d: JSON.parse(r.out), err: r.err };
}
const btc = (d: Json) => (d.byUnderlying as Json[]).find((x) => x.underlying === "BTC");

/**
 * Independent sum of the live book's BTC figures at the chain's forwards and mark vols. Deribit's
 * mark convention: inverse option coin = m Black / F, USD = coin x S; so cash delta = m g.delta S,
 * cash gamma = m g.gamma F S / 100, vega = m g.vega S / F. Linear option: USD = m Black. Inverse
 * perpetual (10 USD contracts) opened at the index: coin value 0, delta 20,000 x 10 / S coins.
 */
function reference() {
  const legs = [
    { code: "26JUN26", K: 110_000, kind: "call" as const, m: -10, linear: false },
    { code: "26JUN26", K: 90_000, kind: "put" as const, m: 8, linear: false },
    { code: "25SEP26", K: 100_000, kind: "call" as const, m: 5, linear: false },
    { code: "26JUN26", K: 95_000, kind: "put" as const, m: -2, linear: true },
  ];
  const r = { valueCoin: 0, deltaBlack: (20000 * 10) / S, cashGamma: 0, vegaPt: 0, thetaDay: 0 };
  for (const l of legs) {
    const F = FWD[l.code] as number;
    const g = blackGreeks({ forward: F, strike: l.K, expiry: T(l.code), vol: iv(l.code, l.K), kind: l.kind });
    const q = l.linear ? 1 : S / F; // USD per Black dollar
    r.valueCoin += (l.m * q * g.price) / S;
    r.deltaBlack += (l.m * q * g.delta * F) / S;
    r.cashGamma += (l.m * q * g.gamma * F * F) / 100;
    r.vegaPt += l.m * q * g.vega * 0.01;
    r.thetaDay += (l.m * q * g.theta) / 365;
  }
  return r;
}
const rel = (a: number, x: number) => Math.abs(a - x) / Math.max(1, Math.abs(x));

describe("book commands on one market (--chain)", () => {
  it("risk --json: Deribit-convention greeks at full precision, both deltas named, units", async () => {
    const { d, err } = await json(["risk", "--book", LIVE_BOOK, "--chain", CHAIN]);
    expect(err).not.toMatch(/WARNING/);
    expect(d.valuationTime).toBe(new Date(T0).toISOString());
    expect(d.market.source).toBe("chain");
    expect(d.expired).toEqual([]);
    expect(d.excluded).toEqual([]);
    const g = btc(d);
    const x = reference();
    // Full precision: 1e-12, where the old 6-significant-digit rounding was off by up to 5e-7.
    expect(rel(g.valueCoin, x.valueCoin)).toBeLessThan(FULL_PRECISION_REL);
    expect(String(g.valueCoin).replace(/^-?0\.0*/, "").length).toBeGreaterThan(8);
    expect(rel(g.deltaUnderlyingCoin, x.deltaBlack)).toBeLessThan(FULL_PRECISION_REL);
    expect(rel(g.cashGammaUsd, x.cashGamma)).toBeLessThan(FULL_PRECISION_REL);
    expect(rel(g.vegaUsdPerVolPt, x.vegaPt)).toBeLessThan(FULL_PRECISION_REL);
    expect(rel(g.thetaUsdPerDay, x.thetaDay)).toBeLessThan(FULL_PRECISION_REL);
    // Which delta is which: aliases equal to the kept names, and stated in `units`.
    expect(g.deltaBlackCoin).toBe(g.deltaUnderlyingCoin);
    expect(g.deltaPremiumAdjustedCoin).toBe(g.deltaCoin);
    expect(rel(g.deltaCoin, x.deltaBlack - x.valueCoin)).toBeLessThan(FULL_PRECISION_REL);
    expect(g.cashDeltaUsd).toBeCloseTo(g.deltaUnderlyingCoin * S, USD_DIGITS);
    for (const k of [
      "deltaBlackCoin",
      "deltaPremiumAdjustedCoin",
      "valueCoin",
      "cashDeltaUsd",
      "vegaUsdPerVolPt",
    ])
      expect(typeof d.units[k]).toBe("string");
    expect(d.units.deltaBlackCoin + d.units.deltaUnderlyingCoin).toMatch(/Deribit's `delta`/);
    expect(typeof d.worstScenarios[0].pnlUsd).toBe("number");
  }, 60_000);

  it("risk, stress (base case), margin, optimize 'before' and the demo report the same greeks", async () => {
    const risk = btc((await json(["risk", "--book", LIVE_BOOK, "--chain", CHAIN])).d);
    const stress = (await json(["stress", "--book", LIVE_BOOK, "--chain", CHAIN])).d;
    const margin = (await json(["margin", "--book", LIVE_BOOK, "--chain", CHAIN])).d;
    const opt = await captureCli([
      "optimize",
      "--book",
      LIVE_BOOK,
      "--chain",
      CHAIN,
      "--spec",
      SPEC,
      "--json",
    ]);
    expect([0, 1], opt.err).toContain(opt.code);
    const o = JSON.parse(opt.out);
    expect(btc(stress)).toEqual(risk);
    expect(btc(margin)).toEqual(risk);
    expect(btc(o)).toEqual(risk);
    // The optimizer's own book valuation (buildOptimizeBook) on the same market: deltaCoin there is
    // risk's deltaUnderlyingCoin (Black's delta), named deltaBlackCoin too.
    const b = o.before.greeks;
    expect(b.deltaBlackCoin).toBe(b.deltaCoin);
    expect(rel(b.deltaCoin, risk.deltaBlackCoin)).toBeLessThan(FULL_PRECISION_REL);
    expect(rel(b.cashGammaUsd, risk.cashGammaUsd)).toBeLessThan(FULL_PRECISION_REL);
    expect(rel(b.vegaUsdPerVolPt, risk.vegaUsdPerVolPt)).toBeLessThan(FULL_PRECISION_REL);
    expect(rel(b.thetaUsdPerDay, risk.thetaUsdPerDay)).toBeLessThan(FULL_PRECISION_REL);
    // The demo on the same chain and book: same rows, same optimizer "before".
    const demo = await captureCli([
      "demo",
      "--no-serve",
      "--json",
      "--out",
      dir,
      "--chain",
      CHAIN,
      "--book",
      LIVE_BOOK,
    ]);
    expect(demo.code, demo.err).toBe(0);
    const rep = JSON.parse(demo.out);
    expect(btc(rep.greeks)).toEqual(risk);
    expect(rel(rep.optimizer.before.vegaUsdPerVolPt, risk.vegaUsdPerVolPt)).toBeLessThan(FULL_PRECISION_REL);
    expect(rel(rep.optimizer.before.deltaCoin, risk.deltaBlackCoin)).toBeLessThan(FULL_PRECISION_REL);
    // Equity from one function (bookEquity): cash at the chain's index + the book's value.
    expect(rel(margin.equityUsd, 2 * S + 50_000 + risk.valueUsd)).toBeLessThan(FULL_PRECISION_REL);
    expect(rel(rep.margin.equityUsd, margin.equityUsd)).toBeLessThan(FULL_PRECISION_REL);
  }, 120_000);

  it("a CSV book (instrument,quantity,entryPrice) values the same on --chain", async () => {
    const a = btc((await json(["risk", "--book", CSV_BOOK, "--chain", CHAIN])).d);
    const b = btc((await json(["risk", "--book", LIVE_BOOK, "--chain", CHAIN])).d);
    expect(a).toEqual(b);
  }, 60_000);
});

describe("expired legs: settled once, listed, in no figure", () => {
  for (const market of [["--chain", CHAIN], ["--book-market"]]) {
    it(`${market[0]}: a put expired the day before is settled at the index and moves no grid point or stress`, async () => {
      const live = await json(["risk", "--book", LIVE_BOOK, ...market]);
      const r = await json(["risk", "--book", EXPIRED_BOOK, ...market]);
      // Listed with its settlement: 10 x (110,000 - 100,000) USD intrinsic at the index = 1 BTC.
      expect(r.d.expired).toHaveLength(1);
      const e = r.d.expired[0];
      expect([e.instrument, e.reason, e.settlementPrice, e.settlementSource, e.currency]).toEqual([
        EXPIRED.instrument,
        "expired",
        S,
        "index-intrinsic",
        "BTC",
      ]);
      expect(e.value).toBeCloseTo(1, COIN_DIGITS);
      expect(e.valueUsd).toBeCloseTo(S, USD_DIGITS);
      expect(r.err).toMatch(/volfolio risk: WARNING: 1 of 6 book legs expired .*BTC-30APR26-110000-P/);
      expect(r.d.warnings.join(" ")).toContain("BTC-30APR26-110000-P");
      // It reaches no figure: greeks, the whole grid's worst scenarios and the stress library equal
      // the live book's (the old behaviour: -30% spot -> +270,000 USD from the dead put).
      expect(r.d.byUnderlying).toEqual(live.d.byUnderlying);
      expect(r.d.worstScenarios).toEqual(live.d.worstScenarios);
      const s = await json(["stress", "--book", EXPIRED_BOOK, ...market]);
      const s0 = await json(["stress", "--book", LIVE_BOOK, ...market]);
      expect(s.d.stress).toEqual(s0.d.stress);
      expect(s.d.expired).toEqual(r.d.expired);
      // Margin: the same requirements; equity gains the settlement (1 BTC at the index).
      const m = await json(["margin", "--book", EXPIRED_BOOK, ...market]);
      const m0 = await json(["margin", "--book", LIVE_BOOK, ...market]);
      expect(m.d.byCurrency).toEqual(m0.d.byCurrency);
      expect(m.d.equityUsd - m0.d.equityUsd).toBeCloseTo(S, USD_DIGITS);
      // The table lists it too.
      const t = await captureCli(["risk", "--book", EXPIRED_BOOK, ...market]);
      expect(t.out).toMatch(/expired: BTC-30APR26-110000-P x 10: settled 1 BTC/);
    }, 120_000);
  }

  it("optimize on a book whose every BTC leg expired warns loudly (stderr and JSON), naming the legs", async () => {
    const dead = book("dead.json", {
      positions: [EXPIRED, { instrument: "BTC-30APR26-90000-C", quantity: -5 }],
    });
    const r = await captureCli(["optimize", "--book", dead, "--chain", CHAIN, "--spec", SPEC, "--json"]);
    const d = JSON.parse(r.out);
    expect(d.expired.map((x: Json) => x.instrument)).toEqual(["BTC-30APR26-110000-P", "BTC-30APR26-90000-C"]);
    expect(d.warnings.join(" ")).toMatch(/EMPTY BTC book.*BTC-30APR26-110000-P, BTC-30APR26-90000-C/);
    expect(r.err).toMatch(/volfolio optimize: WARNING: .*EMPTY BTC book/);
  }, 60_000);

  it("the README's optimizer example: a chain at a time the book is live reports no expired leg; at a later time it warns", async () => {
    const live = join(dir, "synthetic-live.csv");
    const late = join(dir, "synthetic-late.csv");
    for (const [out, time] of [
      [live, "2026-02-02T08:00:00Z"],
      [late, "2026-12-06T21:00:00Z"],
    ] as const) {
      const c = await captureCli(["chain", "synthetic", "--seed", "42", "--time", time, "--out", out]);
      expect(c.code, c.err).toBe(0);
    }
    const ok = await json(["optimize", "--chain", live, "--book", SAMPLE_BOOK, "--spec", SAMPLE_SPEC]);
    expect(ok.d.status).toBe("optimal");
    expect(ok.d.expired).toEqual([]);
    expect(ok.d.warnings).toEqual([]);
    expect(ok.d.before.cvarUsd).toBeGreaterThan(0);
    const r = await captureCli([
      "optimize",
      "--chain",
      late,
      "--book",
      SAMPLE_BOOK,
      "--spec",
      SAMPLE_SPEC,
      "--json",
    ]);
    const d = JSON.parse(r.out);
    expect(d.expired.length).toBe(8);
    expect(d.warnings.join(" ")).toContain("BTC-27MAR26-110000-C");
    expect(r.err).toMatch(/WARNING: 8 of 10 book legs expired/);
  }, 120_000);
});

describe("--synthetic and --book-market", () => {
  it("--synthetic --seed 42 --time (the demo's market) gives the demo's default greeks", async () => {
    const r = await json([
      "risk",
      "--book",
      SAMPLE_BOOK,
      "--synthetic",
      "--seed",
      "42",
      "--time",
      "2026-02-02T08:00:00Z",
    ]);
    expect(r.d.market.source).toBe("synthetic");
    expect(r.d.market.label).toContain("synthetic ETH chain (seed 43)");
    const demo = await captureCli(["demo", "--no-serve", "--json", "--out", dir, "--seed", "42"]);
    expect(demo.code, demo.err).toBe(0);
    expect(JSON.parse(demo.out).greeks.byUnderlying).toEqual(r.d.byUnderlying);
  }, 120_000);

  it("--book-market values on the book file's parametric section, said in the market label", async () => {
    const { d } = await json(["risk", "--book", LIVE_BOOK, "--book-market"]);
    expect(d.market.source).toBe("book-market");
    expect(d.market.label).toMatch(/^the book file's own market section \(--book-market\)/);
    expect(d.market.underlyings.BTC.surface).toBe("parametric");
  }, 60_000);
});

describe("market flags: exit codes", () => {
  const one = (err: string) =>
    err
      .trim()
      .split("\n")
      .filter((l) => !l.startsWith("(run with"));
  it.each([
    [
      ["risk", "--book", LIVE_BOOK],
      /no market given: choose --chain FILE, --live, --synthetic .*--book-market/,
    ],
    [
      ["stress", "--book", LIVE_BOOK, "--chain", CHAIN, "--synthetic"],
      /choose one market, got --chain and --synthetic/,
    ],
    [["margin", "--book", LIVE_BOOK, "--synthetic", "--time", "yesterday"], /--time: not an ISO time/],
    [
      ["risk", "--book", LIVE_BOOK, "--book-market", "--time", "2026-01-01T00:00:00Z"],
      /--time applies to --chain and --synthetic/,
    ],
    [["optimize", "--book", LIVE_BOOK, "--spec", SPEC, "--book-market"], /--book-market cannot be used/],
    [
      ["optimize", "--book", LIVE_BOOK, "--spec", SPEC],
      /no market given: choose --chain FILE, --live or --synthetic/,
    ],
    [["risk", "--book", CSV_BOOK, "--book-market"], /no "market" section/],
    [["risk", "--book", LIVE_BOOK, "--synthetic", "--seed", "1.5"], /--seed must be an integer/],
  ])("%j exits 2 with one line", async (argv, msg) => {
    const r = await captureCli(argv as string[]);
    expect(r.code).toBe(2);
    expect(one(r.err)).toHaveLength(1);
    expect(r.err).toMatch(msg as RegExp);
  });

  it("a bad book row exits 2 naming it; missing book or chain exits 3", async () => {
    const bad = book("bad.json", { positions: [{ instrument: "BTC-26JUN26-110000-C", quantity: "ten" }] });
    const a = await captureCli(["risk", "--book", bad, "--chain", CHAIN]);
    expect(a.code).toBe(2);
    expect(one(a.err)).toHaveLength(1);
    expect(a.err).toMatch(/quantity/);
    const b = await captureCli(["risk", "--book", join(dir, "nope.json"), "--chain", CHAIN]);
    expect(b.code).toBe(3);
    expect(b.err).toMatch(/nope\.json/);
    const c = await captureCli(["margin", "--book", LIVE_BOOK, "--chain", join(dir, "nope.csv")]);
    expect(c.code).toBe(3);
    expect(one(c.err)).toHaveLength(1);
  });
});

describe("--live (a fake Deribit public API on 127.0.0.1)", () => {
  const t0 = Date.UTC(2026, 1, 2, 8);
  const chain = syntheticChain({ underlying: "BTC", valuationTime: t0, seed: 11, spot: 95_000 });
  const options = apiOptionRows(chain);
  let server: Server;
  let base = "";
  beforeAll(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://x");
      const method = url.pathname.replace("/api/v2/public/", "");
      const result =
        method === "get_instruments"
          ? chain.quotes.map((q) => ({ instrument_name: q.instrument.name, kind: "option", is_active: true }))
          : method === "get_book_summary_by_currency"
            ? url.searchParams.get("kind") === "future"
              ? []
              : options
            : null;
      res.writeHead(result ? 200 : 400, { "content-type": "application/json" });
      res.end(
        JSON.stringify(
          result ? { jsonrpc: "2.0", result } : { jsonrpc: "2.0", error: { code: 1, message: "x" } },
        ),
      );
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("values the book on the live chain of each underlying it holds", async () => {
    const b = book("btc-live.json", { positions: [{ instrument: "BTC-27MAR26-100000-C", quantity: -3 }] });
    const { d, err } = await json(["risk", "--book", b, "--live"], { VOLFOLIO_DERIBIT_URL: base });
    expect(d.market.source).toBe("live");
    expect(d.valuationTime).toBe(new Date(t0).toISOString());
    expect(d.market.underlyings.BTC.indexPrice).toBe(95_000);
    expect(btc(d).vegaUsdPerVolPt).toBeLessThan(0);
    expect(err).toContain(`[risk] live BTC chain from ${base}`);
  }, 60_000);

  it("an unreachable API is one line and exit 3", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((r) => closed.close(() => r()));
    const r = await captureCli(["risk", "--book", LIVE_BOOK, "--live", "--timeout", "2000"], {
      VOLFOLIO_DERIBIT_URL: url,
    });
    expect(r.code).toBe(3);
    expect(r.err.trim().split("\n")).toHaveLength(1);
    expect(r.err).toMatch(new RegExp(`^volfolio: --live: cannot reach ${url}: .*no internet access`));
  }, 30_000);
});

describe("README", () => {
  it("every book-command example runs (exit 0) with the documented flags; the book is live on its chain", async () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const lines = readme
      .split("\n")
      .map((l) => l.replace(/\s+#.*$/, "").trim())
      .filter((l) => /^volfolio (chain synthetic|risk|stress|margin|optimize) /.test(l));
    expect(lines.length).toBeGreaterThanOrEqual(8);
    const chain = join(dir, "readme-chain.csv");
    let ran = 0;
    for (const line of lines) {
      // Not here: the network (--live), the reader's own files, worker threads (need the built dist),
      // and the real data when it is absent.
      if (/--live|my-book|--workers/.test(line)) continue;
      if (line.includes("../shared/data") && !existsSync(join(ROOT, "../shared/data"))) continue;
      const argv = line
        .replace(/^volfolio /, "")
        .replaceAll("/tmp/chain.csv", chain)
        .replaceAll("../shared/data", join(ROOT, "../shared/data"))
        .replaceAll("examples/", `${ROOT}/examples/`)
        .split(/\s+/);
      const r = await captureCli(argv);
      expect(r.code, `${line}: ${r.err}`).toBe(0);
      expect(r.err, line).not.toMatch(/WARNING/);
      ran++;
    }
    expect(ran).toBeGreaterThanOrEqual(5);
  }, 180_000);
});
