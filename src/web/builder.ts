/**
 * The position builder (dashboard "Builder" tab, /api/builder/*): legs picked from the loaded
 * chain (or a book file) valued by the core valuation on the same market as `volfolio risk`
 * (web/bookMarket.ts valueBookOnInputs on core/risk/chainMarket.ts: the chain's index and
 * forwards, each option at its chain mark vol), with
 * - per-leg and total greeks in coin and USD (web/bookMarket.ts greekRow: the fields and units of
 *   `volfolio risk --json`),
 * - premium and fees (core/backtest/fills.ts optionFill: Deribit's 0.03% of the underlying capped
 *   at 12.5% of the premium, no slippage), at the mark or at the touch (ask to buy, bid to sell),
 * - P&L curves against the spot: at the first leg expiry (legs expiring then at intrinsic, later
 *   legs at the model), at T+0, T+n days and a chosen date, each after a parallel vol shift
 *   (core/risk/scenario.ts applyScenario: spot and forwards moved together, sticky-strike,
 *   time rolled; valuation core/risk/valuation.ts valuePortfolio),
 * - breakevens and max profit / loss of the expiry curve,
 * - margin before / after (web/bookMarket.ts bookMargin: standard and portfolio margin, the
 *   distance to liquidation by full revaluation) of the account without and with the legs.
 * P&L is in USD: value at the scenario - the premium paid (coin premium converted at today's
 * index, as Deribit's builder shows USD) - fees. Spot moves are relative and move every
 * underlying together; the x axis is the first leg's underlying in USD.
 */
import { z } from "zod";
import { parsePortfolioCsv, parsePortfolioJson } from "../adapters/portfolioFile.js";
import { optionFill } from "../core/backtest/fills.js";
import { DEFAULT_COSTS } from "../core/hedge/costs.js";
import type { Position } from "../core/instruments/types.js";
import type { ChainSnapshot, CleanQuote } from "../core/market/types.js";
import { type ChainMarketInputs, chainMarketInputs } from "../core/risk/chainMarket.js";
import { positionGreeks } from "../core/risk/greeks.js";
import type { RiskMarket } from "../core/risk/market.js";
import { applyScenario, linspace } from "../core/risk/scenario.js";
import { valuePortfolio } from "../core/risk/valuation.js";
import { DAY_MS } from "../core/time.js";
import {
  bookChainMarketOptions,
  bookGreeks,
  bookMargin,
  type GreekRow,
  greekRow,
  type ValuedBook,
  valueBookOnInputs,
} from "./bookMarket.js";
import { formatZodIssues, zodIssuePath } from "../adapters/zodIssues.js";

/** The market the builder values legs on, and the account (book file) they are added to. */
export interface BuilderMarket {
  readonly label: string;
  readonly built: ChainMarketInputs;
  readonly valuationTime: number;
  /** The account: positions of the book file (valued on the same market) and its cash. */
  readonly book: {
    readonly label: string;
    readonly positions: readonly Position[];
    readonly cash: Record<string, number>;
  };
  /** Quotes by instrument name. */
  readonly quotes: ReadonlyMap<string, CleanQuote>;
}

/** Builds the builder's market from chains (SVI fit pinned to the marks, as the book commands). */
export function builderMarket(o: {
  readonly chains: readonly ChainSnapshot[];
  readonly label: string;
  readonly book?: {
    readonly label: string;
    readonly positions: readonly Position[];
    readonly cash?: Record<string, number>;
  };
}): BuilderMarket {
  const built = chainMarketInputs(o.chains, bookChainMarketOptions());
  const first = built.inputs[0];
  if (!first) throw new Error(`no market: ${built.leftOut.map((l) => l.detail).join("; ") || "no chain"}`);
  const quotes = new Map<string, CleanQuote>();
  for (const i of built.inputs)
    for (const q of i.normalized.snapshot.quotes) quotes.set(q.instrument.name, q);
  return {
    label: o.label,
    built,
    valuationTime: first.normalized.snapshot.valuationTime,
    book: {
      label: o.book?.label ?? "empty account",
      positions: o.book?.positions ?? [],
      cash: { ...(o.book?.cash ?? {}) },
    },
    quotes,
  };
}

/** One row of the builder's chain table: prices in the premium currency per coin of underlying. */
export interface BuilderChainRow {
  readonly instrument: string;
  readonly underlying: string;
  readonly expiry: string;
  readonly strike: number;
  readonly kind: "call" | "put";
  /** "coin" for inverse options (premium in the underlying coin), "USD" for linear (USDC). */
  readonly premiumCurrency: "coin" | "USD";
  readonly bid: number | null;
  readonly ask: number | null;
  readonly mark: number | null;
  readonly bidIv: number | null;
  readonly askIv: number | null;
  readonly markIv: number | null;
  readonly forwardUsd: number;
  readonly indexUsd: number;
}

/** The loaded chain (clean quotes of every underlying), by expiry then strike. */
export function builderChain(m: BuilderMarket): {
  label: string;
  valuationTime: string;
  rows: BuilderChainRow[];
} {
  const rows: BuilderChainRow[] = [];
  for (const i of m.built.inputs) {
    const s = i.normalized.snapshot;
    for (const q of s.quotes)
      rows.push({
        instrument: q.instrument.name,
        underlying: s.underlying,
        expiry: new Date(q.instrument.expiry).toISOString(),
        strike: q.instrument.strike,
        kind: q.instrument.kind,
        premiumCurrency: q.instrument.settlement === "inverse" ? "coin" : "USD",
        bid: q.bid,
        ask: q.ask,
        mark: q.mark,
        bidIv: q.bidVol,
        askIv: q.askVol,
        markIv: q.markVol,
        forwardUsd: q.forward,
        indexUsd: s.indexPrice,
      });
  }
  rows.sort(
    (a, b) =>
      a.underlying.localeCompare(b.underlying) ||
      a.expiry.localeCompare(b.expiry) ||
      a.strike - b.strike ||
      a.kind.localeCompare(b.kind),
  );
  return { label: m.label, valuationTime: new Date(m.valuationTime).toISOString(), rows };
}

/** The /api/builder/evaluate request (zod: every problem named with its path). */
export const BuilderRequest = z
  .object({
    legs: z
      .array(
        z
          .object({
            instrument: z.string().min(1).max(64),
            /** Signed contracts: + buy, - sell. */
            quantity: z
              .number()
              .finite()
              .refine((x) => x !== 0, "must not be 0")
              .refine((x) => Math.abs(x) <= 1e6, "must be at most 1e6 contracts"),
          })
          .strict(),
      )
      .max(40),
    /** "mark": open at the mark; "touch": buy at the ask, sell at the bid. */
    pricing: z.enum(["mark", "touch"]).default("mark"),
    /** Parallel vol shift applied to the curves and the spot-slider figures, decimal (0.05 = +5 pts). */
    volShift: z.number().min(-0.5).max(2).default(0),
    /** T+n: days forward of the second P&L curve. */
    days: z.number().min(0).max(3650).default(7),
    /** A chosen date (ISO) for the third curve; default none. */
    date: z.iso.datetime({ offset: true }).or(z.iso.date()).optional(),
    /** The spot slider: USD price of the first leg's underlying where the point figures are given. */
    spot: z.number().positive().finite().optional(),
    /** Half-width of the plotted spot range, relative (0.3 = -30%..+30%). */
    spotRange: z.number().min(0.02).max(0.95).default(0.3),
    /** Points per curve. */
    points: z.number().int().min(11).max(401).default(121),
    /** Add the legs to the loaded book (margin before = the book, after = book + legs). */
    includeBook: z.boolean().default(true),
    /** Compute margin before / after (the slow part, about 0.5 s a book: skip while sliding). */
    margin: z.boolean().default(true),
    /** Collateral by currency (replaces the book file's cash when given). */
    cash: z.record(z.string().regex(/^[A-Z][A-Z0-9]{1,9}$/), z.number().finite()).optional(),
  })
  .strict();
export type BuilderRequestInput = z.input<typeof BuilderRequest>;

/** A request the builder cannot evaluate: names the field and the value (HTTP 400). */
export class BuilderInputError extends RangeError {
  constructor(
    readonly field: string,
    readonly value: unknown,
    why: string,
  ) {
    super(`${field}: ${why} (got ${JSON.stringify(value)})`);
    this.name = "BuilderInputError";
  }
}

/** Parses a request body; throws BuilderInputError naming every problem. */
export function parseBuilderRequest(body: unknown): z.output<typeof BuilderRequest> {
  const r = BuilderRequest.safeParse(body);
  if (r.success) return r.data;
  const first = r.error.issues[0];
  let value: unknown = body;
  for (const k of first?.path ?? [])
    value = (value as Record<PropertyKey, unknown> | undefined)?.[k as PropertyKey];
  const field = first ? zodIssuePath(first, "(body)") : "(body)";
  throw new BuilderInputError(field, value, formatZodIssues(r.error, { root: "(body)" }));
}

export interface BuilderLeg {
  readonly instrument: string;
  readonly quantity: number;
  readonly premiumCurrency: "coin" | "USD";
  /** Price paid per coin of underlying (premium currency); the mark or the touch. */
  readonly price: number;
  readonly bid: number | null;
  readonly ask: number | null;
  readonly mark: number | null;
  readonly markIv: number | null;
  /** quantity x contract size x price, premium currency (+ paid, - received). */
  readonly premium: number;
  readonly premiumUsd: number;
  /** Fee (premium currency) and in USD. */
  readonly fee: number;
  readonly feeUsd: number;
  /** The vol the core valuation uses for this leg and its source (chain-mark, ...). */
  readonly vol: number;
  readonly volSource: string;
  /** Greeks of the leg (volfolio risk's fields: coin and USD, vega per vol point, theta per day). */
  readonly greeks: GreekRow;
}

export interface BuilderCurve {
  readonly label: string;
  /** Days forward of the valuation time. */
  readonly days: number;
  readonly date: string;
  readonly volShift: number;
  /** P&L in USD at each spot of BuilderResult.spots. */
  readonly pnlUsd: number[];
}

export interface MarginSummary {
  readonly standardInitialUsd: number;
  readonly standardMaintenanceUsd: number;
  readonly portfolioInitialUsd: number;
  readonly portfolioMaintenanceUsd: number;
  readonly equityUsd: number;
  /** Pooled account, sticky-strike: first relative spot moves / vol rise to liquidation (null: none). */
  readonly liquidation: {
    spotDown: number | null;
    spotUp: number | null;
    volUp: number | null;
    alreadyBelowMaintenance: boolean;
  };
  readonly byAccount: {
    account: string;
    unit: string;
    equity: number;
    maintenance: number;
    spotDown: number | null;
    spotUp: number | null;
    alreadyBelowMaintenance: boolean;
  }[];
}

export interface BuilderResult {
  readonly market: string;
  readonly valuationTime: string;
  readonly underlying: string;
  readonly indexUsd: number;
  readonly legs: BuilderLeg[];
  /** Sum over legs (volfolio risk's byUnderlying rows of the legs alone). */
  readonly totals: GreekRow[];
  readonly premiumUsd: number;
  readonly feesUsd: number;
  /** Value of the legs at the market now, USD. */
  readonly valueUsd: number;
  readonly spots: number[];
  readonly curves: { expiry: BuilderCurve; t0: BuilderCurve; tn: BuilderCurve; date: BuilderCurve | null };
  readonly breakevens: number[];
  /** Max profit / loss of the expiry curve over spot 0.01%..500% of today's; null = unbounded. */
  readonly maxProfitUsd: number | null;
  readonly maxLossUsd: number | null;
  /** The spot slider's point: P&L of each curve at that spot (direct valuation, not interpolated). */
  readonly atSpot: { spot: number; expiry: number; t0: number; tn: number; date: number | null };
  readonly margin: {
    before: MarginSummary | null;
    after: MarginSummary | null;
    account: string;
    error?: string;
  };
  readonly book: {
    positions: { instrument: string; quantity: number; entryPrice?: number }[];
    cash: Record<string, number>;
  };
  readonly notes: string[];
}

/** Margin of the account without the legs, by market and account (see evaluateBuilder). */
const BEFORE_CACHE = new WeakMap<BuilderMarket, Map<string, MarginSummary>>();

function marginSummary(v: ValuedBook): MarginSummary {
  const m = bookMargin(v);
  return {
    standardInitialUsd: m.standardInitialUsd,
    standardMaintenanceUsd: m.standardMaintenanceUsd,
    portfolioInitialUsd: m.portfolioInitialUsd,
    portfolioMaintenanceUsd: m.portfolioMaintenanceUsd,
    equityUsd: m.equityUsd,
    liquidation: {
      spotDown: m.liquidation.spotDown,
      spotUp: m.liquidation.spotUp,
      volUp: m.liquidation.volUp,
      alreadyBelowMaintenance: m.liquidation.alreadyBelowMaintenance,
    },
    byAccount: m.liquidationByAccount.map((a) => ({
      account: a.account,
      unit: a.unit,
      equity: a.equity,
      maintenance: a.maintenance,
      spotDown: a.spot["sticky-strike"].down,
      spotUp: a.spot["sticky-strike"].up,
      alreadyBelowMaintenance: a.alreadyBelowMaintenance,
    })),
  };
}

/** USD value of `positions` on `market` after a spot move, a vol shift and `days` forward. */
export function scenarioValueUsd(
  positions: readonly Position[],
  market: RiskMarket,
  o: { spotShift: number; volShift: number; days: number },
): number {
  if (positions.length === 0) return 0;
  const m = applyScenario(market, { spotShift: o.spotShift, volShift: o.volShift, timeRollDays: o.days });
  return valuePortfolio(positions, m).totalUsd;
}

/** Linear-interpolated zero crossings of y(x). */
function zeros(x: readonly number[], y: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < x.length; i++) {
    const y0 = y[i - 1] ?? Number.NaN;
    const y1 = y[i] ?? Number.NaN;
    if (y0 === 0 && (i === 1 || (y[i - 2] ?? Number.NaN) !== 0)) out.push(x[i - 1] ?? Number.NaN);
    else if (y0 * y1 < 0) {
      const x0 = x[i - 1] ?? Number.NaN;
      const x1 = x[i] ?? Number.NaN;
      out.push(x0 + ((x1 - x0) * y0) / (y0 - y1));
    }
  }
  return out;
}

const iso = (t: number) => new Date(t).toISOString();

type ParsedBuilderRequest = z.output<typeof BuilderRequest>;

/** The requested legs as positions on the loaded chain, with their clean quotes. */
function requestLegs(m: BuilderMarket, r: ParsedBuilderRequest): { legs: Position[]; quotes: CleanQuote[] } {
  const legs: Position[] = [];
  const quotes: CleanQuote[] = [];
  r.legs.forEach((l, i) => {
    const q = m.quotes.get(l.instrument);
    if (!q)
      throw new BuilderInputError(`legs.${i}.instrument`, l.instrument, "not an option of the loaded chain");
    legs.push({ instrument: q.instrument, quantity: l.quantity });
    quotes.push(q);
  });
  return { legs, quotes };
}

/** Premium and fee of each leg: the core's option fill (no slippage) at the mark or the touch. */
const BUILDER_COSTS = { ...DEFAULT_COSTS, slippageBps: 0, impactBpsPerContract: 0 };

/** One leg's row: fill price, premium and fee (coin and USD), its vol and greeks on the market. */
function legRow(
  p: Position,
  q: CleanQuote,
  i: number,
  r: ParsedBuilderRequest,
  valued: ValuedBook,
): BuilderLeg {
  const touch = r.pricing === "touch" ? (p.quantity > 0 ? q.ask : q.bid) : q.mark;
  if (touch === null || !(touch >= 0))
    throw new BuilderInputError(
      `legs.${i}.instrument`,
      p.instrument.name,
      r.pricing === "touch" ? `no ${p.quantity > 0 ? "ask" : "bid"} to trade at` : "no mark price",
    );
  const fill = optionFill({
    costs: BUILDER_COSTS,
    quantity: p.quantity,
    touch,
    mark: q.mark ?? touch,
    contractSize: p.instrument.contractSize,
  });
  const inverse = p.instrument.settlement === "inverse";
  const s = valued.market.underlyings[p.instrument.underlying]?.indexPrice ?? Number.NaN;
  const premium = p.quantity * p.instrument.contractSize * fill.price;
  const toUsd = (x: number) => (inverse ? x * s : x);
  const opt = valued.options.find((o) => o.name === p.instrument.name);
  return {
    instrument: p.instrument.name,
    quantity: p.quantity,
    premiumCurrency: inverse ? "coin" : "USD",
    price: fill.price,
    bid: q.bid,
    ask: q.ask,
    mark: q.mark,
    markIv: q.markVol,
    premium,
    premiumUsd: toUsd(premium),
    fee: fill.fee,
    feeUsd: toUsd(fill.fee),
    vol: opt?.vol ?? Number.NaN,
    volSource: opt?.source ?? "n/a",
    greeks: greekRow(p.instrument.underlying, positionGreeks(p, valued.market)),
  };
}

/** P&L (USD, net of premium and fees) of the legs after a spot and vol shift, `days` later. */
type PnlAt = (spotShift: number, volShift: number, days: number) => number;

/** The payoff curves: at the first expiry, T+0, T+days and on the requested date. */
function payoffCurves(
  r: ParsedBuilderRequest,
  o: {
    t: number;
    shifts: readonly number[];
    pnl: PnlAt;
    firstExpiry: number;
    expiryDays: number;
    dateDays: number | null;
  },
): BuilderResult["curves"] {
  const curve = (label: string, days: number, volShift: number): BuilderCurve => ({
    label,
    days,
    date: iso(o.t + days * DAY_MS),
    volShift,
    pnlUsd: o.shifts.map((s) => o.pnl(s, volShift, days)),
  });
  const { dateDays } = o;
  return {
    expiry: curve(
      `at expiry ${Number.isFinite(o.firstExpiry) ? iso(o.firstExpiry).slice(0, 10) : ""}`,
      o.expiryDays,
      0,
    ),
    t0: curve("T+0", 0, r.volShift),
    tn: curve(`T+${r.days}`, r.days, r.volShift),
    date:
      dateDays === null
        ? null
        : curve(`on ${iso(o.t + dateDays * DAY_MS).slice(0, 10)}`, dateDays, r.volShift),
  };
}

/**
 * Breakevens and extremes of the expiry payoff on a wide fine grid (0.01%..500% of the index);
 * unbounded (null) when the payoff still rises (falls) at 5x spot: net long (short) calls.
 */
function expiryExtremes(pnl: PnlAt, index: number, expiryDays: number, cost: number) {
  const wide = linspace(Math.log(1e-4), Math.log(5), 1001).map((x) => Math.exp(x) - 1);
  const wideY = wide.map((s) => pnl(s, 0, expiryDays));
  const breakevens = zeros(
    wide.map((s) => index * (1 + s)),
    wideY,
  );
  const n = wide.length;
  const slopeUp =
    ((wideY[n - 1] ?? Number.NaN) - (wideY[n - 2] ?? Number.NaN)) /
    (index * ((wide[n - 1] ?? Number.NaN) - (wide[n - 2] ?? Number.NaN)));
  const tol = 1e-9 * Math.max(1, Math.abs(cost));
  return {
    breakevens,
    maxProfitUsd: slopeUp > tol ? null : Math.max(...wideY),
    maxLossUsd: slopeUp < -tol ? null : Math.min(...wideY),
  };
}

/** The account the margin is of: the loaded book (or none) and its collateral. */
function builderAccount(m: BuilderMarket, r: ParsedBuilderRequest) {
  const cash = r.cash ?? (r.includeBook ? m.book.cash : {});
  const base = r.includeBook ? m.book.positions : [];
  const label = `${r.includeBook ? m.book.label : "no book"}; collateral ${
    Object.entries(cash)
      .map(([c, x]) => `${x} ${c}`)
      .join(", ") || "none"
  }`;
  return { cash, base, label };
}

/**
 * Margin of the account without and with the legs (bookMargin: the `volfolio margin` figures).
 * The account without the legs does not change while legs are added: computed once per market and
 * account (the liquidation search of the margin engine is the slow part).
 */
function builderMargin(
  m: BuilderMarket,
  r: ParsedBuilderRequest,
  account: ReturnType<typeof builderAccount>,
  legs: readonly Position[],
): BuilderResult["margin"] {
  const { cash, base, label } = account;
  if (!r.margin) return { account: label, before: null, after: null, error: "not computed (margin: false)" };
  try {
    const key = JSON.stringify({ includeBook: r.includeBook, cash });
    let perMarket = BEFORE_CACHE.get(m);
    if (!perMarket) {
      perMarket = new Map();
      BEFORE_CACHE.set(m, perMarket);
    }
    let before = perMarket.get(key);
    if (!before) {
      before = marginSummary(
        valueBookOnInputs({ source: "chain", label: m.label, positions: base, cash, built: m.built }),
      );
      perMarket.set(key, before);
    }
    const after = valueBookOnInputs({
      source: "chain",
      label: m.label,
      positions: [...base, ...legs],
      cash,
      built: m.built,
    });
    return { account: label, before, after: marginSummary(after) };
  } catch (e) {
    return { account: label, before: null, after: null, error: (e as Error).message.split("\n")[0] ?? "" };
  }
}

/**
 * The export: a book file (`volfolio risk --book`) of the account's positions plus the legs
 * (entry price = the price paid, in the premium currency per coin) and the collateral.
 */
function exportBook(
  account: ReturnType<typeof builderAccount>,
  outLegs: readonly BuilderLeg[],
): BuilderResult["book"] {
  return {
    positions: [
      ...account.base.map((p) => ({
        instrument: p.instrument.name,
        quantity: p.quantity,
        ...(p.entryPrice !== undefined ? { entryPrice: p.entryPrice } : {}),
      })),
      ...outLegs.map((l) => ({ instrument: l.instrument, quantity: l.quantity, entryPrice: l.price })),
    ],
    cash: { ...account.cash },
  };
}

/** Evaluates a builder request on the market (see the module comment). */
export function evaluateBuilder(m: BuilderMarket, input: unknown): BuilderResult {
  const r = parseBuilderRequest(input);
  const { legs, quotes } = requestLegs(m, r);
  const valued = valueBookOnInputs({ source: "chain", label: m.label, positions: legs, built: m.built });
  const t = m.valuationTime;
  const underlying =
    legs[0]?.instrument.underlying ?? m.built.inputs[0]?.normalized.snapshot.underlying ?? "";
  const index = valued.market.underlyings[underlying]?.indexPrice ?? Number.NaN;
  const outLegs = legs.map((p, i) => {
    const q = quotes[i];
    if (!q) throw new Error(`no quote of leg ${i}`);
    return legRow(p, q, i, r, valued);
  });
  const notes: string[] = [];
  if (valued.excluded.length > 0)
    notes.push(`left out: ${valued.excluded.map((x) => `${x.instrument} (${x.reason})`).join(", ")}`);
  const live = valued.positions;
  const premiumUsd = outLegs.reduce((a, l) => a + l.premiumUsd, 0);
  const feesUsd = outLegs.reduce((a, l) => a + l.feeUsd, 0);
  const cost = premiumUsd + feesUsd;
  const pnl: PnlAt = (spotShift, volShift, days) =>
    scenarioValueUsd(live, valued.market, { spotShift, volShift, days }) - cost;
  const firstExpiry = live.reduce(
    (a, p) => Math.min(a, p.instrument.expiry ?? Number.POSITIVE_INFINITY),
    Number.POSITIVE_INFINITY,
  );
  const expiryDays = Number.isFinite(firstExpiry) ? (firstExpiry - t) / DAY_MS : 0;
  const shifts = linspace(-r.spotRange, r.spotRange, r.points);
  const dateDays = r.date !== undefined ? (Date.parse(r.date) - t) / DAY_MS : null;
  if (dateDays !== null && !(dateDays >= 0))
    throw new BuilderInputError("date", r.date, `must be at or after the valuation time ${iso(t)}`);
  const curves = payoffCurves(r, { t, shifts, pnl, firstExpiry, expiryDays, dateDays });
  const { breakevens, maxProfitUsd, maxLossUsd } = expiryExtremes(pnl, index, expiryDays, cost);
  const spot = r.spot ?? index;
  const sShift = spot / index - 1;
  const account = builderAccount(m, r);
  return {
    market: m.label,
    valuationTime: iso(t),
    underlying,
    indexUsd: index,
    legs: outLegs,
    totals: live.length > 0 ? bookGreeks(valued).byUnderlying : [],
    premiumUsd,
    feesUsd,
    valueUsd: valuePortfolio(live, valued.market).totalUsd,
    spots: shifts.map((s) => index * (1 + s)),
    curves,
    breakevens,
    maxProfitUsd,
    maxLossUsd,
    atSpot: {
      spot,
      expiry: pnl(sShift, 0, expiryDays),
      t0: pnl(sShift, r.volShift, 0),
      tn: pnl(sShift, r.volShift, r.days),
      date: dateDays === null ? null : pnl(sShift, r.volShift, dateDays),
    },
    margin: builderMargin(m, r, account, legs),
    book: exportBook(account, outLegs),
    notes,
  };
}

/** The /api/builder/book request: a book file's text (JSON or CSV, as `volfolio risk --book`). */
export const BuilderBookRequest = z
  .object({ text: z.string().min(1).max(1_000_000), name: z.string().max(200).optional() })
  .strict();

/**
 * Legs from a book file: its options that the loaded chain lists (quantity as in the file); the
 * rest (futures, options not in the chain, rejected rows) listed with the reason.
 */
export function builderLegsFromBook(
  m: BuilderMarket,
  body: unknown,
): { legs: { instrument: string; quantity: number }[]; leftOut: { instrument: string; reason: string }[] } {
  const r = BuilderBookRequest.safeParse(body);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new BuilderInputError(
      i ? zodIssuePath(i, "(body)") : "(body)",
      "(book text)",
      i?.message ?? "invalid",
    );
  }
  const name = r.data.name ?? "(book)";
  let file: ReturnType<typeof parsePortfolioJson>;
  try {
    file = r.data.text.trimStart().startsWith("{")
      ? parsePortfolioJson(r.data.text, name)
      : parsePortfolioCsv(r.data.text, name);
  } catch (e) {
    throw new BuilderInputError("text", name, (e as Error).message.split("\n")[0] ?? "not a book file");
  }
  const legs: { instrument: string; quantity: number }[] = [];
  const leftOut: { instrument: string; reason: string }[] = file.rejected.map((x) => ({
    instrument: `row ${x.row}`,
    reason: x.reason,
  }));
  for (const p of file.positions) {
    if (p.instrument.type !== "option")
      leftOut.push({ instrument: p.instrument.name, reason: "not an option" });
    else if (!m.quotes.has(p.instrument.name))
      leftOut.push({ instrument: p.instrument.name, reason: "not listed in the loaded chain" });
    else legs.push({ instrument: p.instrument.name, quantity: p.quantity });
  }
  return { legs, leftOut };
}
