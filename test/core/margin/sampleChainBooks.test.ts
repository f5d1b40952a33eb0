/**
 * Issue 20 item 6: 20 seeded books mixing long and short calls, puts and futures (inverse BTC and
 * ETH, linear BTC_USDC / ETH_USDC options, perpetuals and dated futures) on the real sample
 * Deribit chain (../shared/data/deribit/sample_BTC_ETH_chain_20260110T091409Z.csv, BTC and ETH,
 * 2026-01-10), valued through the CLI's market step (cli/bookMarket.ts bookOnMarket). Expected
 * figures come from ./deribitReference.ts: Deribit's published per-position standard margin and
 * the S:PM risk matrix written out with the documented parameters, own Black-76, own bumps and
 * aggregation; the only inputs taken from the market are its data: each expiry's forward, the
 * IV at the leg's strike and the index. Those inputs reproduce the chain's own mark prices
 * (checked first), so the reference prices the options as Deribit marks them.
 * Then fast-check properties on seeded books of the same chain: margins >= 0; PM <= the worst
 * full-matrix loss (every pair's loss whole: no offset, weight or dampener; computed here) plus
 * the add-ons; adding a risk-reducing hedge (the opposite of a fraction of every position) never
 * increases PM; segregated liquidation distances bracket the pooled one (pooled no nearer than the
 * nearest account, and no farther than the farthest when every account is below maintenance there
 * by the reference revaluation), and each distance matches the reference bump-and-revalue scan.
 * When ../shared/data is absent (a checkout alone, e.g. CI), the same checks run on a BTC and ETH
 * chain in the sample's CSV format written here from Black-76, with a warning
 * (VOLFOLIO_MARGIN_STANDIN=1 forces it).
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { bookOnMarket, loadBookFile } from "../../../src/cli/bookMarket.js";
import type { ValuedBook } from "../../../src/web/bookMarket.js";
import type { Position } from "../../../src/core/instruments/types.js";
import { standardBookMargin } from "../../../src/core/margin/book.js";
import { crossPortfolioMargin } from "../../../src/core/margin/crossPortfolioMargin.js";
import { liquidationByRevaluation } from "../../../src/core/margin/liquidation.js";
import { portfolioMargin } from "../../../src/core/margin/portfolioMargin.js";
import type { RiskMarket } from "../../../src/core/risk/market.js";
import { black } from "./reference.js";
import {
  type RefLeg,
  refCross,
  refEquity,
  refPortfolio,
  refStandard,
  refSurplus,
} from "./deribitReference.js";

/** Against the reference written out in the test from Deribit's documented formulas (own Black-76 with erfc, own bumps and aggregation): two double implementations that round differently; 1e-9 relative is far above their ~1e-13 disagreement yet catches any rule change. */
const REF_REL = 1e-9;
/** Market marks vs the chain's: median (5e-7) and worst (1e-5 coin) bounds for this file and the stand-in chain, where ITM options are valued at the OTM side's vol on one parity forward (measured median 4e-16, worst 6.9e-6 coin on the real file). */
const MARK_MEDIAN_ABS = 5e-7;
const MARK_WORST_ABS = 1e-5;

/** MM = 0.8 IM on ~1e3-1e6 USD: one product, a few ulps. */
const MM_RATIO_DIGITS = 9;

const YEAR = 365 * 86_400_000;
const SAMPLE = resolve(
  __dirname,
  "../../../../shared/data/deribit/sample_BTC_ETH_chain_20260110T091409Z.csv",
);
const dir = mkdtempSync(join(tmpdir(), "volfolio-sample-books-"));
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);

// ---- the chain: the real sample, or one written here in its format ----
interface Row {
  name: string;
  currency: "BTC" | "ETH";
  kind: "call" | "put";
  strike: number;
  expiry: number;
  code: string;
  mark: number;
}
function parseCsv(text: string): Record<string, string>[] {
  const [head, ...lines] = text.trim().split("\n");
  const cols = (head as string).split(",");
  return lines.map((l) => Object.fromEntries(l.split(",").map((x, i) => [cols[i], x])));
}
/** A BTC and ETH chain in the sample's CSV format, priced by Black-76 (no data needed). */
function writeBlackSample(): string {
  const t = "2026-01-10T09:14:09.905825+00:00";
  const t0 = Date.parse("2026-01-10T09:14:09.905Z");
  const cols =
    "timestamp,instrument_name,underlying,underlying_name,option_type,strike,expiry_datetime,time_to_maturity,bid_price,ask_price,mark_price,mid_price,futures_price,futures_instrument_name,implied_volatility,delta,vega,open_interest,volume,bid_ask_spread,currency,index_price,volume_usd";
  const out = [cols];
  const exps = [
    ["16JAN26", "2026-01-16"],
    ["30JAN26", "2026-01-30"],
    ["27MAR26", "2026-03-27"],
    ["26JUN26", "2026-06-26"],
  ];
  for (const [u, S, step] of [
    ["BTC", 90_500, 5000],
    ["ETH", 3_090, 200],
  ] as const)
    for (const [code, day] of exps) {
      const E = Date.parse(`${day}T08:00:00Z`);
      const T = (E - t0) / YEAR;
      const F = S * Math.exp(0.05 * T);
      for (let i = -6; i <= 8; i++) {
        const K = Math.round(F / step) * step + i * step;
        const k = Math.log(K / F);
        const v = (u === "BTC" ? 0.45 : 0.6) - 0.1 * k + 0.3 * k * k + 0.02 * Math.sqrt(T);
        for (const kind of ["call", "put"] as const) {
          const mark = black(F, K, v, T, kind === "call") / F;
          out.push(
            [
              t,
              `${u}-${code}-${K}-${kind === "call" ? "C" : "P"}`,
              F,
              `SYN.${u}-${code}`,
              kind,
              `${K}.0`,
              `${day}T08:00:00+00:00`,
              T,
              mark * 0.97,
              mark * 1.03,
              mark,
              mark,
              F,
              `SYN.${u}-${code}`,
              v,
              "",
              "",
              100,
              0,
              mark * 0.06,
              u,
              S,
              0,
            ].join(","),
          );
        }
      }
    }
  const file = join(dir, "black_sample.csv");
  writeFileSync(file, `${out.join("\n")}\n`);
  return file;
}

const REAL = existsSync(SAMPLE) && !process.env.VOLFOLIO_MARGIN_STANDIN;
if (!REAL)
  console.warn(`sampleChainBooks.test: ${SAMPLE} not found; running on a Black-76 chain in its format`);
const CHAIN = REAL ? SAMPLE : writeBlackSample();
const rows: Row[] = parseCsv(readFileSync(CHAIN, "utf8")).map((r) => ({
  name: r.instrument_name as string,
  currency: r.currency as "BTC" | "ETH",
  kind: r.option_type as "call" | "put",
  strike: Number(r.strike),
  expiry: Date.parse(r.expiry_datetime as string),
  code: (r.instrument_name as string).split("-")[1] as string,
  mark: Number(r.mark_price),
}));
const T0 = Date.parse(parseCsv(readFileSync(CHAIN, "utf8"))[0]?.timestamp as string);

// ---- seeded books ----
interface BookLeg {
  instrument: string;
  quantity: number;
}
/** Mulberry32: a seeded uniform generator written here. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
/** Options at least 5 days out with strikes within 0.6x..1.6x of the index's neighbourhood. */
function candidates(u: "BTC" | "ETH"): Row[] {
  const mid = u === "BTC" ? 90_500 : 3_090;
  return rows.filter(
    (r) =>
      r.currency === u && r.expiry - T0 >= 5 * 86_400_000 && r.strike > 0.6 * mid && r.strike < 1.6 * mid,
  );
}
const CANDS = { BTC: candidates("BTC"), ETH: candidates("ETH") };
const DATED = [
  ...new Set(rows.filter((r) => r.code === "27MAR26" || r.code === "26JUN26").map((r) => r.code)),
];

function seededBook(seed: number): { positions: BookLeg[]; cash: Record<string, number> } {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)] as T;
  const legs = new Map<string, number>();
  const n = 3 + Math.floor(r() * 5);
  let shortOption = false;
  for (let i = 0; i < n; i++) {
    const u = r() < 0.6 ? "BTC" : "ETH";
    const what = r();
    let name: string;
    let q: number;
    if (what < 0.55) {
      const o = pick(CANDS[u]);
      name = o.name;
      q = (r() < 0.6 ? -1 : 1) * (1 + Math.floor(r() * (u === "BTC" ? 15 : 150)));
    } else if (what < 0.75) {
      const o = pick(CANDS[u]);
      name = o.name.replace(`${u}-`, `${u}_USDC-`);
      q = (r() < 0.6 ? -1 : 1) * (1 + Math.floor(r() * (u === "BTC" ? 800 : 1500)));
    } else {
      const dated = r() < 0.4 && DATED.length > 0;
      name = dated ? `${u}-${pick(DATED)}` : `${u}-PERPETUAL`;
      const usd = (r() < 0.5 ? -1 : 1) * (20_000 + Math.floor(r() * 2_000_000));
      q = Math.round(usd / (u === "BTC" ? 10 : 1));
    }
    if (q < 0 && !name.endsWith("PERPETUAL") && name.split("-").length === 4) shortOption = true;
    legs.set(name, (legs.get(name) ?? 0) + q);
  }
  if (!shortOption) legs.set(CANDS.BTC[0]?.name as string, -3);
  const positions = [...legs]
    .filter(([, q]) => q !== 0)
    .map(([instrument, quantity]) => ({ instrument, quantity }));
  return { positions, cash: { BTC: 1 + 9 * r(), ETH: 10 + 200 * r(), USDC: 20_000 + 400_000 * r() } };
}

async function valued(
  book: { positions: BookLeg[]; cash: Record<string, number> },
  tag: string,
): Promise<ValuedBook> {
  const file = join(dir, `${tag}.json`);
  writeFileSync(file, JSON.stringify(book));
  return bookOnMarket(await loadBookFile(file), { kind: "chain", file: CHAIN });
}

/** A position as reference data: forward, IV at the strike and T read off the market. */
function refLeg(p: Position, m: RiskMarket): RefLeg {
  const ins = p.instrument;
  const um = m.underlyings[ins.underlying];
  if (!um) throw new Error(`no ${ins.underlying} market`);
  const u = ins.underlying as "BTC" | "ETH";
  const fwd = (e: number) => {
    const f = um.forwards.find((x) => x.expiry === e);
    if (!f) throw new Error(`no listed forward at ${new Date(e).toISOString()}`);
    return f.forward;
  };
  if (ins.type === "future") {
    const F = ins.expiry === null ? um.indexPrice : fwd(ins.expiry);
    const T = ins.expiry === null ? 0 : (ins.expiry - m.valuationTime) / YEAR;
    return {
      type: "future",
      u,
      F,
      T,
      usd: p.quantity * ins.contractSize,
      ...(p.entryPrice ? { entry: p.entryPrice } : {}),
    };
  }
  if (ins.type !== "option") throw new Error(`${ins.name}: the reference legs are options and futures`);
  const F = fwd(ins.expiry);
  const T = (ins.expiry - m.valuationTime) / YEAR;
  return {
    type: "option",
    u,
    linear: ins.settlement === "linear",
    call: ins.kind === "call",
    K: ins.strike,
    F,
    v: um.surface.impliedVol(Math.log(ins.strike / F), T),
    T,
    size: p.quantity * ins.contractSize,
  };
}
const indexOf = (m: RiskMarket) =>
  Object.fromEntries(Object.entries(m.underlyings).map(([u, x]) => [u, x.indexPrice]));

const BOOKS = Array.from({ length: 20 }, (_, i) => seededBook(2000 + i));
const V: ValuedBook[] = [];
beforeAll(async () => {
  for (const [i, b] of BOOKS.entries()) V.push(await valued(b, `book${i}`));
}, 240_000);

describe(`20 seeded books on the ${REAL ? "real sample Deribit chain" : "Black-76 stand-in chain"}`, () => {
  it("the market's forward and IV at each listed strike reproduce the chain's mark prices", () => {
    const m = V[0]?.market as RiskMarket;
    expect(Math.abs(m.valuationTime - T0)).toBeLessThan(1);
    let n = 0;
    const diffs: number[] = [];
    for (const r of rows.filter((x) => x.expiry - T0 >= 5 * 86_400_000)) {
      const l = refLeg(
        {
          instrument: {
            type: "option",
            name: r.name,
            underlying: r.currency,
            kind: r.kind,
            strike: r.strike,
            expiry: r.expiry,
            settlement: "inverse",
            contractSize: 1,
          },
          quantity: 1,
        },
        m,
      );
      if (l.type !== "option") continue;
      const mark = black(l.F, l.K, l.v, l.T, l.call) / l.F;
      diffs.push(Math.abs(mark - r.mark));
      n++;
    }
    // Deribit prints marks to 1e-8 BTC / 1e-6 ETH. Out-of-the-money marks are met to print
    // precision; in-the-money ones (valued at the OTM side's vol and the expiry's one parity
    // forward) within a few 1e-6 coin. Real chain (1,080 options 5+ days out): median 4e-16,
    // worst 6.9e-6 coin (ETH, in the money). These bounds are for this one file (the reference's
    // inputs on the day these books use); the season-wide mark agreement (233 days, worst 1e-3
    // coin on strikes Deribit marked at another forward) is measured and tested by
    // scripts/measure/deribitMarks.ts and test/core/risk/deribitMarks.test.ts.
    diffs.sort((a, b) => a - b);
    expect(n).toBeGreaterThan(REAL ? 900 : 100);
    expect(diffs[Math.floor(n / 2)] as number).toBeLessThan(MARK_MEDIAN_ABS);
    expect(diffs[n - 1] as number).toBeLessThan(MARK_WORST_ABS);
  });

  it("books mix long and short calls, puts, linear options and futures in BTC, ETH and USDC", () => {
    const names = BOOKS.flatMap((b) => b.positions.map((p) => `${p.instrument}:${Math.sign(p.quantity)}`));
    for (const re of [
      /^BTC-\w+-\d+-C:-1/,
      /^BTC-\w+-\d+-P:1/,
      /^ETH-\w+-\d+-P:-1/,
      /_USDC-.*:-1/,
      /PERPETUAL:/,
    ])
      expect(
        names.some((x) => re.test(x)),
        String(re),
      ).toBe(true);
    expect(names.some((x) => /^(BTC|ETH)-\d\d[A-Z]{3}\d\d:/.test(x))).toBe(true); // a dated future
    for (const v of V) expect(v.positions.length).toBeGreaterThanOrEqual(2);
  });

  it("standard margin per currency = Deribit's per-position rules written out (1e-9)", () => {
    for (const v of V) {
      const got = standardBookMargin(v.positions, v.market).byCurrency;
      const want = refStandard(v.positions.map((p) => refLeg(p, v.market)));
      expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
      for (const [c, w] of Object.entries(want)) {
        expect(rel(got[c]!.initial, w.initial), c).toBeLessThan(REF_REL);
        expect(rel(got[c]!.maintenance, w.maintenance), c).toBeLessThan(REF_REL);
      }
    }
  });

  it("portfolio margin per currency = the S:PM risk matrix written out (1e-9): worst case, roll, IM, MM = 0.8 IM", () => {
    const figures: number[] = [];
    for (const v of V) {
      const got = portfolioMargin(v.positions, v.market).byCurrency;
      const want = refPortfolio(
        v.positions.map((p) => refLeg(p, v.market)),
        indexOf(v.market),
      );
      expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
      for (const [c, w] of Object.entries(want)) {
        const g = got[c]!;
        expect(g.deltaShock, c).toBe(0); // books far below $20M of delta
        expect(Math.abs(g.risk - w.worst), `${c} worst`).toBeLessThanOrEqual(REF_REL * Math.max(1, w.worst));
        expect(rel(g.rollShock, w.roll) < 1e-12 || w.roll === g.rollShock, `${c} roll`).toBe(true);
        expect(Math.abs(g.initial - w.initial), `${c} IM`).toBeLessThanOrEqual(
          REF_REL * Math.max(1, w.initial),
        );
        expect(Math.abs(g.maintenance - 0.8 * w.initial)).toBeLessThanOrEqual(
          REF_REL * Math.max(1, w.initial),
        );
        figures.push(w.initial);
      }
    }
    expect(figures.filter((x) => x > 0).length).toBeGreaterThan(20); // not a test of zeros
  });
});

describe("cross portfolio margin (X:PM): one USD matrix over every currency and the coin balances", () => {
  it("= the X:PM reading written out (refCross) on the 20 books with their cash (1e-9)", () => {
    const seen: number[] = [];
    for (const v of V) {
      const cash = Object.fromEntries(
        Object.entries(v.cash).filter(([c]) => c === "USDC" || v.market.underlyings[c] !== undefined),
      );
      const got = crossPortfolioMargin({ positions: v.positions, cash, market: v.market });
      const want = refCross(
        v.positions.map((p) => refLeg(p, v.market)),
        cash,
        indexOf(v.market),
      );
      expect(Math.abs(got.riskUsd - want.worst)).toBeLessThanOrEqual(REF_REL * Math.max(1, want.worst));
      expect(rel(got.rollShockUsd, want.roll) < 1e-12 || want.roll === got.rollShockUsd).toBe(true);
      expect(Math.abs(got.initialUsd - want.initial)).toBeLessThanOrEqual(
        REF_REL * Math.max(1, want.initial),
      );
      expect(got.maintenanceUsd).toBeCloseTo(0.8 * got.initialUsd, MM_RATIO_DIGITS);
      expect(got.deltaShockUsd).toBe(0);
      // Haircuts are 0 for BTC, ETH and USDC (documented): IM equity = equity.
      expect(got.equityForInitialUsd).toBe(got.equityUsd);
      seen.push(got.initialUsd);
    }
    expect(seen.every((x) => x > 0)).toBe(true);
  });
});

describe("the example book (examples/book.json) on the same chain", () => {
  it("standard and portfolio margin per currency = the reference (1e-9); equity revalues coin cash", async () => {
    const book = JSON.parse(readFileSync(resolve(__dirname, "../../../examples/book.json"), "utf8"));
    const v = await valued({ positions: book.positions, cash: book.cash }, "example");
    expect(v.positions.length).toBe(book.positions.length);
    const legs = v.positions.map((p) => refLeg(p, v.market));
    const sm = standardBookMargin(v.positions, v.market).byCurrency;
    const pm = portfolioMargin(v.positions, v.market).byCurrency;
    const wantSm = refStandard(legs);
    const wantPm = refPortfolio(legs, indexOf(v.market));
    expect(Object.keys(pm).sort()).toEqual(["BTC", "ETH", "USDC"]);
    for (const c of ["BTC", "ETH", "USDC"]) {
      expect(rel(sm[c]!.initial, wantSm[c]!.initial), c).toBeLessThan(REF_REL);
      expect(rel(sm[c]!.maintenance, wantSm[c]!.maintenance), c).toBeLessThan(REF_REL);
      expect(rel(pm[c]!.initial, wantPm[c]!.initial), c).toBeLessThan(REF_REL);
      expect(rel(pm[c]!.rollShock, wantPm[c]!.roll) < 1e-12 || wantPm[c]!.roll === 0, c).toBe(true);
    }
  }, 120_000);
});

// ---- properties on seeded books of the same chain ----
const bookArb = fc.integer({ min: 1, max: 1_000_000 }).map((s) => seededBook(s));

describe("properties on the chain (fast-check, seeded)", () => {
  it("margins >= 0; PM <= worst full-matrix loss (computed here) + roll + delta shocks", async () => {
    const seen: { positions: BookLeg[]; cash: Record<string, number> }[] = [];
    fc.assert(
      fc.property(bookArb, (b) => {
        seen.push(b);
      }),
      { seed: 206, numRuns: 12 },
    );
    for (const [i, b] of seen.entries()) {
      const v = await valued(b, `prop${i}`);
      const pm = portfolioMargin(v.positions, v.market).byCurrency;
      const sm = standardBookMargin(v.positions, v.market).byCurrency;
      const ref = refPortfolio(
        v.positions.map((p) => refLeg(p, v.market)),
        indexOf(v.market),
      );
      for (const [c, m] of Object.entries(pm)) {
        for (const x of [m.initial, m.maintenance, sm[c]?.initial ?? 0, sm[c]?.maintenance ?? 0])
          expect(x).toBeGreaterThanOrEqual(0);
        const bound = (ref[c] as { fullMatrixLoss: number }).fullMatrixLoss + m.rollShock + m.deltaShock;
        expect(m.initial, c).toBeLessThanOrEqual(bound * (1 + 1e-9) + 1e-12);
      }
    }
  }, 240_000);

  it("adding a risk-reducing hedge (the opposite of a fraction of every position) never increases PM", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 19 }),
        fc.double({ min: 0.05, max: 1, noNaN: true }),
        (i, lambda) => {
          const v = V[i] as ValuedBook;
          const before = portfolioMargin(v.positions, v.market).byCurrency;
          const hedge = v.positions.map((p) => ({ ...p, quantity: -lambda * p.quantity }));
          const after = portfolioMargin([...v.positions, ...hedge], v.market).byCurrency;
          for (const [c, m] of Object.entries(before))
            expect(after[c]?.initial ?? 0).toBeLessThanOrEqual(m.initial * (1 + 1e-9) + 1e-12);
        },
      ),
      { seed: 207, numRuns: 15 },
    );
  });

  it("liquidation: each distance matches a reference bump-and-revalue scan; segregated distances bracket the pooled one", () => {
    let upper = 0;
    let crossings = 0;
    for (const v of V.slice(0, 8)) {
      const legs = v.positions.map((p) => refLeg(p, v.market));
      const idx = indexOf(v.market);
      // Cash that leaves each account 25% above its maintenance (plus 5% of its positions' value),
      // so that most accounts reach liquidation inside -99%.
      const pos = refEquity(legs, {}, 0);
      const pm0 = refPortfolio(legs, idx);
      const cash: Record<string, number> = {};
      for (const [c, x] of Object.entries(pos))
        cash[c] = -x + 1.25 * (pm0[c]?.maintenance ?? 0) + 0.05 * Math.abs(x);
      const liq = liquidationByRevaluation({
        positions: v.positions,
        cash,
        market: v.market,
        dynamics: ["sticky-strike"],
      });
      // Reference: first 0.5% step (down to -99%) where each account's surplus is negative, and
      // the first where every account is below maintenance at once.
      const s0 = refSurplus(legs, cash, idx, 0);
      const accounts = Object.keys(s0).filter((k) => k !== "pooled");
      const first: Record<string, number | null> = {};
      for (const k of Object.keys(s0)) first[k] = (s0[k] as number) < 0 ? 0 : null;
      let allBelow: number | null = null;
      for (let i = 1; i <= 198; i++) {
        const x = -0.005 * i;
        const s = refSurplus(legs, cash, idx, x);
        for (const k of Object.keys(s)) if (first[k] === null && (s[k] as number) < 0) first[k] = x;
        if (allBelow === null && accounts.every((k) => (s[k] as number) < 0)) allBelow = x;
      }
      const seg: number[] = [];
      for (const [k, w] of Object.entries(first)) {
        const a = k === "pooled" ? liq.pooled : liq.byCurrency[k];
        expect(a, k).toBeDefined();
        const got = a!.spot["sticky-strike"].down;
        if (w === null) expect(got, k).toBeNull();
        else if (w === 0) expect(got, k).toBe(0);
        else {
          crossings++;
          // The engine bisects inside its 2% scan: its crossing lies in the reference's 0.5% step.
          expect(got! - w, k).toBeGreaterThanOrEqual(-1e-6);
          expect(got! - w, k).toBeLessThan(0.005 + 1e-6);
        }
        if (k !== "pooled" && got !== null) seg.push(got);
      }
      const pooled = liq.pooled.spot["sticky-strike"].down;
      // Lower bracket: the pooled surplus is the USD sum of the accounts' surpluses, so it cannot
      // go negative before some account does (nor at all if none does).
      if (seg.length === 0) expect(pooled).toBeNull();
      if (pooled !== null) expect(pooled).toBeLessThanOrEqual(Math.max(...seg) + 1e-6);
      // Upper bracket: once every account is below maintenance the pooled one is too.
      if (allBelow !== null) {
        expect(pooled).not.toBeNull();
        expect(pooled!).toBeGreaterThanOrEqual(allBelow - 1e-6);
        upper++;
      }
    }
    expect(crossings).toBeGreaterThan(8);
    expect(upper).toBeGreaterThanOrEqual(2); // the upper bracket is exercised, not only the lower
  }, 240_000);
});
