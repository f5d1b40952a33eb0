/**
 * A book valued on ONE market: the step `volfolio risk`, `stress`, `margin`, `optimize` (through
 * src/cli/bookMarket.ts, which parses their market flags) and the demo pipeline (pipeline.ts) share,
 * so the same book on the same market gives the same greeks through every entry point (DESIGN.md).
 * It lives in web/ because the demo pipeline (web) may not import cli/ (test/architecture.test.ts).
 *
 * Markets:
 *   chains        a chain file's chains, live chains or seeded synthetic chains, one per underlying
 *                 the book holds, turned into a market by core/risk/chainMarket.ts (THE chain ->
 *                 market step): each chain normalized (forwards per expiry, clean quotes), an SVI
 *                 surface fitted and pinned to the chain's marks; chainRiskMarket then splits the
 *                 live positions into valued ones and exclusions with reasons.
 *   book market   the book file's own parametric `market` section (adapters/portfolioFile.ts), only
 *                 when asked for explicitly (--book-market).
 * Synthetic chains (syntheticChainsFor): the n-th underlying (book order; a caller's main chain
 * first) gets seed + n, mark noise SYNTHETIC_MARK_NOISE, index = the book file's market index when
 * it has one (else syntheticChain's default), at the given time, else the book file's market time.
 *
 * Expired legs: before valuation, legs whose expiry is at or before the market's valuation time are
 * settled once with splitExpired (core/risk/expiredLegs.ts) at the market's index (a chain carries
 * no delivery price: each leg's detail says so) and never reach greeks, grids, stress or margin;
 * their settlement value joins the account's cash in `bookAccount` (core/risk/account.ts).
 *
 * Units: instants epoch ms UTC (ISO strings in output), money USD unless a field names a coin,
 * vols decimal, vega per vol point, theta per calendar day.
 */
import { loadChainFile } from "../adapters/chainFile.js";
import type { PortfolioFile } from "../adapters/portfolioFile.js";
import type { Position } from "../core/instruments/types.js";
import { standardBookMargin } from "../core/margin/book.js";
import { type AccountLiquidationDistance, liquidationByRevaluation } from "../core/margin/liquidation.js";
import { type PmWorstCase, portfolioMargin, type RiskMatrixCell } from "../core/margin/portfolioMargin.js";
import { syntheticChain } from "../core/market/synthetic.js";
import type { ChainSnapshot } from "../core/market/types.js";
import { type BookEquity, bookEquity, type CurrencyEquity, sumUsd } from "../core/risk/account.js";
import {
  type ChainMarketInputs,
  type ChainOptionVol,
  type ChainMarketOptions,
  chainMarketInputs,
  chainRiskMarket,
} from "../core/risk/chainMarket.js";
import { type SettledLeg, splitExpired } from "../core/risk/expiredLegs.js";
import { type GreekFigures, type PortfolioGreeks, portfolioGreeks } from "../core/risk/greeks.js";
import type { RiskMarket } from "../core/risk/market.js";
import { DEFAULT_SURFACE_MODEL, type SurfaceModel } from "../core/surface/calibrate.js";
import { perVolPoint } from "../core/time.js";

/** Mark-vol noise of the synthetic chains (vol), as the demo has always used. */
export const SYNTHETIC_MARK_NOISE = 0.002;

const iso = (t: number) => new Date(t).toISOString();

/** Underlyings in order of first appearance: `first` ones, then the positions'. */
export function neededUnderlyings(positions: readonly Position[], first: readonly string[] = []): string[] {
  return [...new Set([...first, ...positions.map((p) => p.instrument.underlying)])];
}

/** Chains of a market, with a label and notes (what was loaded, what was left unused). */
export interface LoadedChains {
  readonly chains: ChainSnapshot[];
  /** One line naming the market, e.g. "chain file x.csv: BTC chain at 2026-01-10T09:14:09.000Z (index 90750.2)". */
  readonly label: string;
  readonly notes: string[];
}

/** "BTC chain at <iso> (index S), ...", with `names` in place of "<u> chain" when given. */
export function describeChains(chains: readonly ChainSnapshot[], names?: readonly string[]): string {
  return chains
    .map(
      (c, i) => `${names?.[i] ?? `${c.underlying} chain`} at ${iso(c.valuationTime)} (index ${c.indexPrice})`,
    )
    .join(", ");
}

/**
 * Seeded synthetic chains for `underlyings` (see the module comment): the n-th gets seed + n.
 * `valuationTime` defaults to the book's market time; one of them must be given.
 */
export function syntheticChainsFor(
  underlyings: readonly string[],
  o: {
    readonly seed: number;
    readonly valuationTime: number;
    readonly book?: Pick<PortfolioFile, "market">;
  },
): LoadedChains {
  const chains: ChainSnapshot[] = [];
  const labels: string[] = [];
  underlyings.forEach((u, n) => {
    const spot = o.book?.market?.underlyings[u]?.indexPrice;
    chains.push(
      syntheticChain({
        underlying: u,
        valuationTime: o.valuationTime,
        seed: o.seed + n,
        ...(spot !== undefined ? { spot } : {}),
        markNoise: SYNTHETIC_MARK_NOISE,
      }),
    );
    labels.push(`synthetic ${u} chain (seed ${o.seed + n})`);
  });
  return { chains, label: describeChains(chains, labels), notes: [] };
}

/**
 * The chains of a chain file for the underlyings in `needed` (in that order); the file's chains of
 * other underlyings are left unused (named in the notes). Throws when none is there.
 */
export async function chainFileChains(
  file: string,
  needed: readonly string[],
  o: { readonly valuationTime?: number } = {},
): Promise<LoadedChains> {
  const r = await loadChainFile(
    file,
    o.valuationTime === undefined ? {} : { valuationTime: o.valuationTime },
  );
  const chains = needed
    .map((u) => r.chains.find((c) => c.underlying === u))
    .filter((c): c is ChainSnapshot => c !== undefined);
  const found = r.chains.map((c) => c.underlying);
  if (chains.length === 0)
    throw new Error(`no ${needed.join(", ")} chain in ${file} (found: ${found.join(", ") || "none"})`);
  const notes: string[] = [];
  const unused = found.filter((u) => !needed.includes(u));
  if (unused.length > 0)
    notes.push(`chain file's ${unused.join(", ")} chain(s) not used: the book holds no position on them`);
  if (r.rejected.length > 0)
    notes.push(
      `chain file: ${r.rejected.length} of ${r.rowsRead} rows rejected by the loader (volfolio chain load lists them)`,
    );
  for (const w of r.warnings) notes.push(`chain file: ${w}`);
  return { chains, label: `chain file ${file}: ${describeChains(chains)}`, notes };
}

// ---------------------------------------------------------------------------------------------
// Valuation (pure)

/** A position left out of every figure, and why. */
export interface ExcludedLeg {
  readonly instrument: string;
  readonly underlying: string;
  readonly quantity: number;
  /** underlying-not-in-market | outside-expiry-range | expired-unsettled (no price to settle it at). */
  readonly reason: string;
  readonly detail: string;
}

/** A book valued on one market. */
export interface ValuedBook {
  readonly source: "chain" | "live" | "synthetic" | "book-market";
  /** One line naming the market. */
  readonly label: string;
  readonly valuationTime: number;
  readonly market: RiskMarket;
  /** The live positions the market values: the only ones in greeks, grids, stress and margin. */
  readonly positions: Position[];
  /** Legs expired at the valuation time, settled once (splitExpired). */
  readonly settled: SettledLeg[];
  readonly excluded: ExcludedLeg[];
  /** Positions in the book file = positions + settled + excluded. */
  readonly bookPositions: number;
  /** The book file's cash by currency (settlement values of expired legs NOT included). */
  readonly cash: Readonly<Record<string, number>>;
  /** Vol of each valued option and its source (chain markets; [] on --book-market). */
  readonly options: ChainOptionVol[];
  /** The chain market inputs (normalized chains and fitted surfaces); [] on --book-market. */
  readonly inputs: ChainMarketInputs["inputs"];
  readonly notes: string[];
}

/**
 * Values a book on chain market inputs (chainMarketInputs' result): expired legs settled at the
 * market's index (splitExpired), the live ones split by chainRiskMarket. Throws an Error when no
 * chain gives a market.
 */
export function valueBookOnInputs(o: {
  readonly source: ValuedBook["source"];
  readonly label: string;
  readonly positions: readonly Position[];
  readonly cash?: Readonly<Record<string, number>>;
  readonly built: ChainMarketInputs;
  readonly notes?: readonly string[];
}): ValuedBook {
  const { inputs, leftOut } = o.built;
  const first = inputs[0];
  if (!first) throw new Error(`no market: ${leftOut.map((l) => l.detail).join("; ") || "no chain"}`);
  const t = first.normalized.snapshot.valuationTime;
  const index = new Map(
    inputs.map((i) => [i.normalized.snapshot.underlying, i.normalized.snapshot.indexPrice]),
  );
  const split = splitExpired(o.positions, t, { indexPrice: (u) => index.get(u) ?? null });
  const v = chainRiskMarket(inputs, split.live);
  const notes = [...(o.notes ?? [])];
  for (const l of leftOut) notes.push(`${l.underlying} chain left out (${l.reason}): ${l.detail}`);
  for (const i of inputs) {
    const s = i.normalized.snapshot;
    notes.push(
      `${s.underlying}: ${i.normalized.counts.accepted} of ${i.normalized.counts.input} quotes clean, surface ${i.surfaceSource === "chain-marks" ? "through the chain's marks" : `${i.surfaceSource} fit pinned to the chain's marks`}`,
    );
    if (i.note) notes.push(i.note);
  }
  return {
    source: o.source,
    label: o.label,
    valuationTime: t,
    market: v.market,
    positions: v.accepted,
    settled: split.settled,
    excluded: [
      ...split.unsettled.map((u) => ({
        instrument: u.position.instrument.name,
        underlying: u.position.instrument.underlying,
        quantity: u.position.quantity,
        reason: "expired-unsettled",
        detail: u.detail,
      })),
      ...v.excluded.map((x) => ({
        instrument: x.position.instrument.name,
        underlying: x.position.instrument.underlying,
        quantity: x.position.quantity,
        reason: x.reason,
        detail: x.detail,
      })),
    ],
    bookPositions: o.positions.length,
    cash: o.cash ?? {},
    options: v.options,
    inputs,
    notes,
  };
}

/** The chain market options of the book commands (the default surface model, svi-af since issue 21,
 *  pinned to the marks); risk worker threads rebuild the market with the same (adapters/riskWorkers.ts). */
export function bookChainMarketOptions(
  surfaceModel: SurfaceModel = DEFAULT_SURFACE_MODEL,
): ChainMarketOptions {
  return { surfaceModel };
}

/** Values a book on chains: chainMarketInputs (SVI fit pinned to the marks) then valueBookOnInputs. */
export function valueBookOnChains(o: {
  readonly source: ValuedBook["source"];
  readonly label: string;
  readonly positions: readonly Position[];
  readonly cash?: Readonly<Record<string, number>>;
  readonly chains: readonly ChainSnapshot[];
  readonly surfaceModel?: SurfaceModel;
  readonly notes?: readonly string[];
}): ValuedBook {
  const built = chainMarketInputs(o.chains, bookChainMarketOptions(o.surfaceModel));
  return valueBookOnInputs({ ...o, built });
}

/**
 * Values a book on its file's own parametric market section (--book-market): expired legs
 * settled at that market's index, positions on an underlying it lacks excluded.
 */
export function valueBookOnBookMarket(book: PortfolioFile, what = "the book file"): ValuedBook {
  const market = book.market;
  if (!market)
    throw new Error(
      `${what} has no "market" section (index, vols, forwards) for --book-market; choose --chain FILE, --live or --synthetic`,
    );
  const t = market.valuationTime;
  const split = splitExpired(book.positions, t, {
    indexPrice: (u) => market.underlyings[u]?.indexPrice ?? null,
  });
  const positions: Position[] = [];
  const excluded: ExcludedLeg[] = split.unsettled.map((u) => ({
    instrument: u.position.instrument.name,
    underlying: u.position.instrument.underlying,
    quantity: u.position.quantity,
    reason: "expired-unsettled",
    detail: u.detail,
  }));
  for (const p of split.live) {
    if (market.underlyings[p.instrument.underlying]) positions.push(p);
    else
      excluded.push({
        instrument: p.instrument.name,
        underlying: p.instrument.underlying,
        quantity: p.quantity,
        reason: "underlying-not-in-market",
        detail: `no ${p.instrument.underlying} entry in the book file's market section (${Object.keys(market.underlyings).join(", ")})`,
      });
  }
  const idx = Object.entries(market.underlyings)
    .map(([u, m]) => `${u} index ${m.indexPrice}`)
    .join(", ");
  return {
    source: "book-market",
    label: `the book file's own market section (--book-market) at ${iso(t)}: ${idx}; parametric vol = atmVol + skew k + curvature k^2 + termSlope sqrt(T), not a chain`,
    valuationTime: t,
    market,
    positions,
    settled: split.settled,
    excluded,
    bookPositions: book.positions.length,
    cash: book.cash ?? {},
    options: [],
    inputs: [],
    notes: [],
  };
}

// ---------------------------------------------------------------------------------------------
// Figures and output pieces shared by the commands

/** What each greek field means (added to every command's --json as `units`). */
export const GREEK_UNITS: Readonly<Record<string, string>> = {
  valueUsd:
    "USD value of the positions at the market (inverse options: coin premium Black(F)/F held at the index, Deribit's mark convention)",
  valueCoin: "value in coins of that underlying (inverse options: Deribit's mark price x quantity)",
  deltaUnderlyingCoin:
    "dV_usd/dS in coins of the underlying: for an inverse option Black's forward delta x quantity (Deribit's `delta` column, the exchange screen's figure); linear option: Black's delta x F/S; futures: their coin exposure",
  deltaBlackCoin: "alias of deltaUnderlyingCoin (Black's forward delta in coins)",
  deltaCoin:
    "premium-adjusted coin delta = deltaUnderlyingCoin - valueCoin: the coin-terms delta of a coin-margined account, S d(V_usd/S)/dS",
  deltaPremiumAdjustedCoin: "alias of deltaCoin (Black delta minus the coin premium)",
  cashDeltaUsd: "deltaUnderlyingCoin x index, USD per 100% spot move",
  cashGammaUsd: "change of cash delta in USD per 1% spot move (gamma x S^2 / 100)",
  vegaUsdPerVolPt: "USD per 1 vol point (0.01) parallel vol move",
  vegaNormUsdPerVolPt: "vega scaled to a 30-day equivalent, sqrt(30/days to expiry), USD per vol point",
  thetaUsdPerDay: "USD per calendar day, forward and vol fixed",
  vannaUsd: "d2V_usd/dS dvol, coins per 1.00 vol",
  volgaUsd: "d2V_usd/dvol2, USD per 1.00 vol squared",
  varianceVegaUsdPerVolPt2:
    "USD per 1 vol-point^2 rise of each leg's own variance (options vega/(2 vol); variance swaps N_var x remaining fraction; DVOL futures contractSize x d fair/d forward variance)",
  pnlUsd: "full-revaluation profit and loss, USD (negative = loss)",
};

/** One underlying's greeks as every command prints them (full precision). */
export type GreekRow = {
  readonly underlying: string;
  readonly valueUsd: number;
  readonly valueCoin: number;
  readonly deltaCoin: number;
  readonly deltaUnderlyingCoin: number;
  readonly deltaBlackCoin: number;
  readonly deltaPremiumAdjustedCoin: number;
  readonly cashDeltaUsd: number;
  readonly cashGammaUsd: number;
  readonly vegaUsdPerVolPt: number;
  readonly vegaNormUsdPerVolPt: number;
  readonly thetaUsdPerDay: number;
  readonly vannaUsd: number;
  readonly volgaUsd: number;
  readonly varianceVegaUsdPerVolPt2: number;
};

export function greekRow(underlying: string, g: GreekFigures): GreekRow {
  return {
    underlying,
    valueUsd: g.valueUsd,
    valueCoin: g.valueCoin,
    deltaCoin: g.deltaCoin,
    deltaUnderlyingCoin: g.deltaUnderlyingCoin,
    deltaBlackCoin: g.deltaUnderlyingCoin,
    deltaPremiumAdjustedCoin: g.deltaCoin,
    cashDeltaUsd: g.cashDeltaUsd,
    cashGammaUsd: g.cashGammaUsd,
    vegaUsdPerVolPt: perVolPoint(g.vegaUsd),
    vegaNormUsdPerVolPt: perVolPoint(g.vegaNormalizedUsd),
    thetaUsdPerDay: g.thetaUsdPerDay,
    vannaUsd: g.vannaUsd,
    volgaUsd: g.volgaUsd,
    varianceVegaUsdPerVolPt2: g.varianceVegaUsd,
  };
}

/** Greeks of a valued book: the portfolio greeks and the rows by underlying. */
export function bookGreeks(v: ValuedBook): { greeks: PortfolioGreeks; byUnderlying: GreekRow[] } {
  const greeks = portfolioGreeks(v.positions, v.market);
  return {
    greeks,
    byUnderlying: Object.entries(greeks.byUnderlying).map(([u, g]) => greekRow(u, g)),
  };
}

/** The columns a greeks table shows (JSON has them all). */
export const GREEK_TABLE_COLUMNS = [
  "underlying",
  "valueUsd",
  "valueCoin",
  "deltaBlackCoin",
  "deltaPremiumAdjustedCoin",
  "cashDeltaUsd",
  "cashGammaUsd",
  "vegaUsdPerVolPt",
  "thetaUsdPerDay",
] as const;

/** The table heading line that says which delta is which. */
export const GREEK_TABLE_TITLE =
  "Greeks by underlying (coin = that underlying's coin; deltaBlackCoin = Black's forward delta, Deribit's `delta` column; deltaPremiumAdjustedCoin = Black delta - coin premium; vega per vol point, theta per day)";

/** An expired leg as --json lists it. */
export interface ExpiredRow {
  readonly instrument: string;
  readonly quantity: number;
  readonly expiry: string;
  readonly reason: "expired";
  readonly settlementPrice: number;
  readonly settlementSource: string;
  readonly currency: string;
  /** Settlement value in `currency`. */
  readonly value: number;
  readonly valueUsd: number;
  readonly detail: string;
}

export function expiredRows(v: ValuedBook): ExpiredRow[] {
  return v.settled.map((s) => ({
    instrument: s.position.instrument.name,
    quantity: s.position.quantity,
    expiry: iso(s.position.instrument.expiry as number),
    reason: "expired",
    settlementPrice: s.settlementPrice,
    settlementSource: s.source,
    currency: s.currency,
    value: s.value,
    valueUsd: s.valueUsd,
    detail: s.detail,
  }));
}

/** Cash plus the settlement values of the expired legs, by currency. */
export function cashWithSettlements(v: ValuedBook): Record<string, number> {
  const cash: Record<string, number> = { ...v.cash };
  for (const s of v.settled) cash[s.currency] = (cash[s.currency] ?? 0) + s.value;
  return cash;
}

/** Account equity of the valued book (core/risk/account.ts): cash + settled legs + positions. */
export function bookAccount(v: ValuedBook): BookEquity {
  return bookEquity(v.positions, cashWithSettlements(v), v.market);
}

/** The market as --json describes it. */
export function marketJson(v: ValuedBook) {
  return {
    source: v.source,
    label: v.label,
    valuationTime: iso(v.valuationTime),
    underlyings: Object.fromEntries(
      Object.entries(v.market.underlyings).map(([u, m]) => [
        u,
        { indexPrice: m.indexPrice, surface: m.surface.model, forwards: m.forwards.length },
      ]),
    ),
  };
}

/**
 * Loud lines for what the figures leave out: expired legs (settled) and excluded positions.
 * Empty when every position is valued.
 */
export function bookWarnings(v: ValuedBook): string[] {
  const out: string[] = [];
  if (v.settled.length > 0)
    out.push(
      `${v.settled.length} of ${v.bookPositions} book legs expired before the market's time ${iso(v.valuationTime)} and are left out of the greeks, grid, stress and margin, settled instead: ${v.settled.map((s) => `${s.position.instrument.name} (${s.value} ${s.currency} at ${s.source === "delivery" ? "delivery price" : "index"} ${s.settlementPrice})`).join(", ")}`,
    );
  if (v.excluded.length > 0)
    out.push(
      `${v.excluded.length} of ${v.bookPositions} book positions the market cannot value are left out of every figure: ${v.excluded.map((x) => `${x.instrument} (${x.reason})`).join(", ")}`,
    );
  if (v.positions.length === 0)
    out.push(`no live position of the book is valued on this market: every figure below is of an empty book`);
  return out;
}

/** The text block every command prints before its figures: market, counts, expired/excluded legs. */
export function bookHeader(v: ValuedBook): string[] {
  const lines = [
    `Market: ${v.label}`,
    `Book: ${v.positions.length} of ${v.bookPositions} positions valued${v.settled.length ? `, ${v.settled.length} expired (settled)` : ""}${v.excluded.length ? `, ${v.excluded.length} excluded` : ""}`,
  ];
  if (v.settled.length > 0)
    lines.push(
      ...v.settled.map(
        (s) =>
          `  expired: ${s.position.instrument.name} x ${s.position.quantity}: settled ${s.value} ${s.currency} (${s.valueUsd} USD) at ${s.source === "delivery" ? "the delivery price" : "the index (delivery price unknown)"} ${s.settlementPrice}`,
      ),
    );
  if (v.excluded.length > 0)
    lines.push(
      ...v.excluded.map((x) => `  excluded: ${x.instrument} x ${x.quantity}: ${x.reason}: ${x.detail}`),
    );
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Margin and distance to liquidation (`volfolio margin`, the demo's margin section)

/** One settlement currency's margins, in that currency: standard, and portfolio with its components. */
export interface MarginCurrencyRow {
  readonly currency: string;
  /** Standard margin (sum of per-position Deribit standard margins, no offsets). */
  readonly stdInitial: number;
  readonly stdMaintenance: number;
  /** Portfolio margin (S:PM): initial = worst case + roll shock + delta shock; maintenance = 0.8 x initial. */
  readonly pmInitial: number;
  readonly pmMaintenance: number;
  /** The worst cell as a move, e.g. "spot -16.0% vol up" ("none" when no cell loses). */
  readonly pmWorst: string;
  /** The worst cell in Deribit's worst_case_bucket terms, e.g. "standard #2: bucket 1 left, vol down". */
  readonly pmWorstCell: string;
  /** The worst cell (Deribit's index / bucket / side / vol) and its loss, or null. */
  readonly pmWorstCase: PmWorstCase | null;
  /** Worst aggregated loss over both tables (Deribit's worst_case). */
  readonly pmWorstCaseLoss: number;
  /** Worst aggregated loss of the standard table (price buckets x vol up/same/down), >= 0. */
  readonly pmStandardTableLoss: number;
  /** Worst aggregated loss of the extended table (after weights and the dampener), >= 0. */
  readonly pmExtendedTableLoss: number;
  /** Roll shock of the futures (annualised move risk). */
  readonly pmRollShock: number;
  /** Delta shock (10% of the delta above the pair's threshold). */
  readonly pmDeltaShock: number;
  /** Delta in USD of the currency's legs (sum over its pairs), what the delta shock is taken on. */
  readonly pmDeltaUsd: number;
  /** The extended dampener in this currency. */
  readonly pmExtendedDampener: number;
}

/** One segregated account (settlement currency): equity and its margins, in that currency. */
export interface MarginAccountRow extends CurrencyEquity {
  readonly stdMaintenance: number;
  readonly pmInitial: number;
  readonly pmMaintenance: number;
  /** equity - pmMaintenance: what the account can lose before liquidation. */
  readonly buffer: number;
  readonly bufferUsd: number;
  /** pmMaintenance / equity (liquidation starts at 1); null when equity <= 0. */
  readonly pmMaintenanceRatio: number | null;
}

/**
 * The pooled (cross-collateral) distance in the shape `liquidation` always had (bufferUsd, spotDown,
 * spotUp, volUp, volDown), sticky-strike, from liquidationByRevaluation.
 */
export interface PooledLiquidation {
  readonly account: "pooled";
  readonly method: "full revaluation (liquidationByRevaluation)";
  readonly dynamics: "sticky-strike";
  readonly bufferUsd: number;
  readonly spotDown: number | null;
  readonly spotUp: number | null;
  readonly volUp: number | null;
  /** Not searched by the revaluation (a vol fall is not a liquidation path it scans): always null. */
  readonly volDown: null;
  readonly alreadyBelowMaintenance: boolean;
}

/** Margin, equity and the distance to liquidation of a valued book (see bookMargin). */
export interface BookMarginFigures {
  readonly byCurrency: MarginCurrencyRow[];
  readonly accounts: MarginAccountRow[];
  readonly account: BookEquity;
  /** Equity in USD over the priced currencies (bookEquity). */
  readonly equityUsd: number;
  readonly portfolioInitialUsd: number;
  readonly portfolioMaintenanceUsd: number;
  readonly standardInitialUsd: number;
  readonly standardMaintenanceUsd: number;
  /** Amounts left out of a USD figure (no price), one line each. */
  readonly unpriced: string[];
  /** The pooled account's distance (sticky-strike) under the long-standing field names. */
  readonly liquidation: PooledLiquidation;
  /** Every account's distance: the segregated currencies, then "pooled" (core's rows, unchanged). */
  readonly liquidationByAccount: AccountLiquidationDistance[];
  /** The margin model whose maintenance the distances are against. */
  readonly liquidationMargin: "portfolio";
  /** Cash the liquidation's revaluation cannot price (as liquidationByRevaluation lists it). */
  readonly liquidationUnpriced: readonly string[];
  /** The risk-matrix cells (standard then extended), raw and aggregated PnL by currency. */
  readonly riskMatrix: readonly RiskMatrixCell[];
}

/** "standard #2: bucket 1 left, vol down" (Deribit's worst_case_bucket fields). */
function worstCell(w: PmWorstCase | null): string {
  return w ? `${w.source} #${w.index}: bucket ${w.bucket} ${w.side}, vol ${w.vol}` : "none";
}

type StandardMargin = ReturnType<typeof standardBookMargin>;
type PortfolioMarginFigures = ReturnType<typeof portfolioMargin>;

/** Standard and portfolio margin per settlement currency, with the portfolio margin's components. */
function marginCurrencyRows(std: StandardMargin, pm: PortfolioMarginFigures): MarginCurrencyRow[] {
  const worstLoss = (xs: readonly number[]) => Math.max(0, ...xs.map((x) => -x));
  return Object.keys({ ...std.byCurrency, ...pm.byCurrency }).map((cur) => {
    const p = pm.byCurrency[cur];
    return {
      currency: cur,
      stdInitial: std.byCurrency[cur]?.initial ?? 0,
      stdMaintenance: std.byCurrency[cur]?.maintenance ?? 0,
      pmInitial: p?.initial ?? 0,
      pmMaintenance: p?.maintenance ?? 0,
      pmWorst: p?.worstScenario ?? "",
      pmWorstCell: worstCell(p?.worstCase ?? null),
      pmWorstCase: p?.worstCase ?? null,
      pmWorstCaseLoss: p?.risk ?? 0,
      pmStandardTableLoss: p ? worstLoss(p.vectors.standard) : 0,
      pmExtendedTableLoss: p ? worstLoss(p.vectors.extended) : 0,
      pmRollShock: p?.rollShock ?? 0,
      pmDeltaShock: p?.deltaShock ?? 0,
      pmDeltaUsd: p ? Object.values(p.pairs).reduce((a, x) => a + x.deltaUsd, 0) : 0,
      pmExtendedDampener: p?.extendedDampener ?? 0,
    };
  });
}

/** Each segregated currency account: equity against portfolio maintenance (buffer, ratio). */
function marginAccountRows(
  account: ReturnType<typeof bookAccount>,
  std: StandardMargin,
  pm: PortfolioMarginFigures,
): MarginAccountRow[] {
  return Object.values(account.byCurrency).map((e) => {
    const mm = pm.byCurrency[e.currency]?.maintenance ?? 0;
    return {
      ...e,
      stdMaintenance: std.byCurrency[e.currency]?.maintenance ?? 0,
      pmInitial: pm.byCurrency[e.currency]?.initial ?? 0,
      pmMaintenance: mm,
      buffer: e.equity - mm,
      bufferUsd: (e.equity - mm) * e.usdPerUnit,
      pmMaintenanceRatio: e.equity > 0 ? mm / e.equity : null,
    };
  });
}

/**
 * Margin, equity and distance to liquidation of a valued book: what `volfolio margin` prints and
 * the demo's margin section shows (one function, so both give the same numbers on the same book
 * and market). Standard margin (core/margin/book.ts), Deribit portfolio margin with its
 * components (core/margin/portfolioMargin.ts), account equity = cash (with the expired legs'
 * settlements) + positions per settlement currency (core/risk/account.ts), and the distance to
 * liquidation by full revaluation against portfolio maintenance, per segregated currency account
 * and pooled (cross collateral) (core/margin/liquidationByRevaluation: spot down/up sticky-strike
 * and sticky-moneyness, vol up; positions and coin cash revalued and maintenance recomputed at
 * each bumped market). Amounts in the account's currency unless named ...Usd; moves relative
 * (spot) or absolute decimal (vol). 0.3-0.9 s for the 10-leg example book (single thread).
 */
export function bookMargin(v: ValuedBook): BookMarginFigures {
  const std = standardBookMargin(v.positions, v.market);
  const pm = portfolioMargin(v.positions, v.market);
  const account = bookAccount(v);
  const cash = cashWithSettlements(v);
  const liq = liquidationByRevaluation({ positions: v.positions, cash, market: v.market });
  // One of a margin's two figures per settlement currency, summed in USD at the book's market.
  const totalUsd = (
    by: Record<string, { initial: number; maintenance: number }>,
    figure: "initial" | "maintenance",
  ) => sumUsd(Object.fromEntries(Object.entries(by).map(([c, m]) => [c, m[figure]])), v.market);
  const pmMaint = totalUsd(pm.byCurrency, "maintenance");
  const pmInit = totalUsd(pm.byCurrency, "initial");
  const stdMaint = totalUsd(std.byCurrency, "maintenance");
  const stdInit = totalUsd(std.byCurrency, "initial");
  const byCurrency = marginCurrencyRows(std, pm);
  const accounts = marginAccountRows(account, std, pm);
  const pooled = liq.pooled;
  const ss = pooled.spot["sticky-strike"];
  return {
    byCurrency,
    accounts,
    account,
    equityUsd: account.equityUsd,
    portfolioInitialUsd: pmInit.totalUsd,
    portfolioMaintenanceUsd: pmMaint.totalUsd,
    standardInitialUsd: stdInit.totalUsd,
    standardMaintenanceUsd: stdMaint.totalUsd,
    unpriced: [
      ...account.unpriced.map((u) => `${u.amount} ${u.currency} of equity (${u.reason})`),
      ...pmMaint.unpriced.map((c) => `${c} maintenance margin (no ${c} index in the market)`),
    ],
    liquidation: {
      account: "pooled",
      method: "full revaluation (liquidationByRevaluation)",
      dynamics: "sticky-strike",
      bufferUsd: pooled.bufferUsd,
      spotDown: ss.down,
      spotUp: ss.up,
      volUp: pooled.volUp,
      volDown: null,
      alreadyBelowMaintenance: pooled.alreadyBelowMaintenance,
    },
    liquidationByAccount: [...Object.values(liq.byCurrency), pooled],
    liquidationMargin: "portfolio",
    liquidationUnpriced: liq.unpriced,
    riskMatrix: pm.matrix,
  };
}

/** What each margin field means (the `units` of `volfolio margin --json`, the demo's margin section). */
export const MARGIN_UNITS: Readonly<Record<string, string>> = {
  byCurrency:
    "per settlement currency (the coin for inverse legs, USDC for linear ones), amounts in that currency: std* = standard margin (per position, no offsets); pm* = Deribit portfolio margin (S:PM): pmInitial = pmWorstCaseLoss + pmRollShock + pmDeltaShock, pmMaintenance = 0.8 x pmInitial; pmWorstCaseLoss = max(pmStandardTableLoss, pmExtendedTableLoss); pmWorstCase / pmWorstCell = the worst risk-matrix cell with Deribit's labels (source standard|extended, index in Deribit's vector, bucket 1-based from the lowest price, side left|center|right, vol up|same|down)",
  accounts:
    "segregated accounts, one per settlement currency, in that currency: cash (book file plus expired legs' settlements) + positions = equity; buffer = equity - pmMaintenance; pmMaintenanceRatio = pmMaintenance / equity (liquidation starts at 1); ...Usd at the market's index",
  account: "bookEquity (core/risk/account.ts): the accounts' equity by currency and in USD",
  equityUsd:
    "account equity in USD over the currencies the market prices (unpriced ones listed, never a NaN)",
  portfolioMaintenanceUsd: "portfolio (risk-matrix) maintenance margin summed in USD at the index",
  portfolioInitialUsd: "portfolio initial margin summed in USD at the index",
  standardMaintenanceUsd: "standard maintenance margin summed in USD at the index",
  standardInitialUsd: "standard initial margin summed in USD at the index",
  liquidation:
    "the pooled (cross-collateral) account's distance to liquidation, sticky-strike (liquidationByAccount's pooled row): spotDown / spotUp = first relative spot move of every underlying at which pooled equity < pooled maintenance; volUp = first parallel vol rise (absolute decimal); null = none in the searched range (spot -99%..+1000%, vol +5.00); volDown is not searched (always null); bufferUsd = equity - maintenance in USD",
  liquidationByAccount:
    "liquidationByRevaluation (core/margin/liquidation.ts), one row per segregated currency account then 'pooled': at each bumped market (spot sticky-strike or sticky-moneyness, or vol up) positions AND coin cash are revalued and the portfolio maintenance recomputed; each distance is the first move at which that account's equity < its maintenance (bisected to 1e-6), null = none in range; equity, maintenance and buffer in `unit` (pooled: USD, equity after haircuts, 0 as Deribit documents); alreadyBelowMaintenance: every distance is 0",
  riskMatrix:
    "portfolio-margin cells (standard then extended): pnl = raw PnL by currency, aggregated = what counts toward the margin (after weights, pnl offset and the extended dampener)",
};
