/**
 * Two functions. liquidationByRevaluation (below): the distance to liquidation as Deribit would
 * liquidate, per currency account and pooled, by full revaluation of positions and coin cash and
 * recomputed maintenance at each bumped market. liquidationDistance: the older figure, kept for
 * its callers:
 *
 * Distance to liquidation: the smallest spot move (down and up, vols unchanged, sticky-strike)
 * and the smallest parallel vol move (up and down, spot unchanged) whose full-revaluation loss
 * exhausts `equityUsd - maintenanceUsd` (the equity above maintenance; maintenance held at its
 * current value). Found by bisection on the book's USD PnL (grid.ts) to 1e-6 relative spot /
 * 1e-6 vol; null when no move inside the searched range (spot -99%..+1000%, vol -vol..+5.00)
 * exhausts it.
 */
import { InvalidInputError, requireFinite, requirePositive } from "../errors.js";
import type { Position } from "../instruments/types.js";
import { bookEquity, usdPerUnit } from "../risk/account.js";
import { compileBook, scenarioPortfolioPnl } from "../risk/grid.js";
import type { RiskMarket } from "../risk/market.js";
import { applyScenario, type Scenario, type SurfaceDynamics } from "../risk/scenario.js";
import { assertLive, resolveFutureEntries } from "../risk/valuation.js";
import { standardBookMargin } from "./book.js";
import { crossPortfolioMargin } from "./crossPortfolioMargin.js";
import { DERIBIT_PORTFOLIO_MARGIN } from "./params/index.js";
import type { PortfolioMarginParams } from "./params/types.js";
import { portfolioMargin } from "./portfolioMargin.js";
import { DERIBIT_STANDARD_MARGIN, type StandardMarginParams } from "./standard.js";

export interface LiquidationDistance {
  /** Buffer that can be lost, USD. */
  readonly bufferUsd: number;
  /** Relative spot move (negative) that exhausts the buffer, or null. */
  readonly spotDown: number | null;
  readonly spotUp: number | null;
  /** Absolute vol move (decimal) that exhausts the buffer, or null. */
  readonly volUp: number | null;
  readonly volDown: number | null;
}

function firstCrossing(loss: (x: number) => number, buffer: number, end: number): number | null {
  // Scan outward in 200 steps, then bisect the first bracket.
  const n = 200;
  let prev = 0;
  for (let i = 1; i <= n; i++) {
    const x = (end * i) / n;
    if (loss(x) >= buffer) {
      let lo = prev;
      let hi = x;
      for (let k = 0; k < 60 && Math.abs(hi - lo) > 1e-7; k++) {
        const mid = (lo + hi) / 2;
        if (loss(mid) >= buffer) hi = mid;
        else lo = mid;
      }
      return hi;
    }
    prev = x;
  }
  return null;
}

/** Distance to liquidation of a book (see the module comment). */
export function liquidationDistance(o: {
  readonly positions: readonly Position[];
  readonly market: RiskMarket;
  readonly equityUsd: number;
  readonly maintenanceUsd: number;
}): LiquidationDistance {
  const buffer = requireFinite("equityUsd", o.equityUsd) - requireFinite("maintenanceUsd", o.maintenanceUsd);
  const book = compileBook(o.positions, o.market);
  const lossOf = (s: Scenario) => -(scenarioPortfolioPnl(book, [s])[0] as number);
  if (buffer <= 0) return { bufferUsd: buffer, spotDown: 0, spotUp: 0, volUp: 0, volDown: 0 };
  const minVol = Math.min(
    ...Object.values(o.market.underlyings).map((m) => m.surface.impliedVol(0, 30 / 365)),
  );
  return {
    bufferUsd: buffer,
    spotDown: firstCrossing((x) => lossOf({ spotShift: x, volShift: 0 }), buffer, -0.99),
    spotUp: firstCrossing((x) => lossOf({ spotShift: x, volShift: 0 }), buffer, 10),
    volUp: firstCrossing((x) => lossOf({ spotShift: 0, volShift: x }), buffer, 5),
    volDown: firstCrossing((x) => lossOf({ spotShift: 0, volShift: x }), buffer, -Math.max(minVol - 0.01, 0)),
  };
}

/** Distance to liquidation of one account (a settlement currency, or all pooled in USD). */
export interface AccountLiquidationDistance {
  /** "BTC", "ETH", "USDC", ... or "pooled". */
  readonly account: string;
  /** Unit of equity, maintenance and buffer: the currency, or "USD" for the pooled account. */
  readonly unit: string;
  /** Equity (cash + positions; pooled: in USD) at the current market. */
  readonly equity: number;
  readonly maintenance: number;
  /** equity - maintenance. */
  readonly buffer: number;
  readonly bufferUsd: number;
  /** True when equity is already below maintenance (every distance is then 0). */
  readonly alreadyBelowMaintenance: boolean;
  /** First relative spot move (all underlyings together) at which equity < maintenance, or null. */
  readonly spot: Readonly<
    Record<SurfaceDynamics, { readonly down: number | null; readonly up: number | null }>
  >;
  /** First parallel vol rise (absolute, decimal) at which equity < maintenance, or null. */
  readonly volUp: number | null;
}

export interface RevaluedLiquidation {
  /** Segregated accounts: each currency's equity against its own maintenance. */
  readonly byCurrency: Readonly<Record<string, AccountLiquidationDistance>>;
  /**
   * Cross collateral, in USD: by default sum over currencies of (equity - maintenance) at the
   * index ("sum-of-accounts"); with pooledMargin "cross", equity in USD against the maintenance
   * of ONE cross portfolio-margin matrix (crossPortfolioMargin, X:PM).
   */
  readonly pooled: AccountLiquidationDistance;
  readonly margin: "portfolio" | "standard";
  readonly pooledMargin: "sum-of-accounts" | "cross";
  /** Cash the market cannot price (left out), as bookEquity lists it. */
  readonly unpriced: readonly string[];
}

/** Options of liquidationByRevaluation. */
export interface RevaluedLiquidationOptions {
  readonly positions: readonly Position[];
  /** Cash by currency ("BTC", "ETH", "USDC"), in that currency. */
  readonly cash?: Readonly<Record<string, number>>;
  readonly market: RiskMarket;
  /** Margin model whose maintenance is recomputed at each bumped market; default "portfolio". */
  readonly margin?: "portfolio" | "standard";
  readonly portfolioParams?: PortfolioMarginParams;
  readonly standardParams?: StandardMarginParams;
  /** Surface dynamics of the spot bumps; default both. */
  readonly dynamics?: readonly SurfaceDynamics[];
  /** Scan step of spot moves (relative) to -99% and to +100% (then +10% a point), default 0.02. */
  readonly spotStep?: number;
  /** Scan step of vol rises (absolute) to +1.00 (then +10% a point), default 0.02. */
  readonly volStep?: number;
  /** Bisection tolerance on the move, default 1e-6. */
  readonly tolerance?: number;
  /**
   * Maintenance of the pooled account: "sum-of-accounts" (default; each currency's maintenance of
   * `margin`, summed in USD) or "cross" (crossPortfolioMargin: one X:PM matrix over every
   * position and the coin balances; needs margin "portfolio").
   */
  readonly pooledMargin?: "sum-of-accounts" | "cross";
}

const ALL_DYNAMICS: readonly SurfaceDynamics[] = ["sticky-strike", "sticky-moneyness"];
const POOLED = "pooled";

/** The validated inputs of one liquidation scan. */
interface LiquidationScan {
  readonly positions: readonly Position[];
  readonly cash: Readonly<Record<string, number>> | undefined;
  readonly model: "portfolio" | "standard";
  readonly pooledModel: "sum-of-accounts" | "cross";
  readonly pmParams: PortfolioMarginParams;
  readonly smParams: StandardMarginParams;
  /** Segregated accounts (currencies) then POOLED. */
  readonly keys: readonly string[];
  readonly accounts: readonly string[];
  readonly tol: number;
}

/** Surplus (equity - maintenance) per account, in its unit, and pooled in USD, at `mkt`. */
function surplusAt(scan: LiquidationScan, mkt: RiskMarket): Record<string, number> {
  const { positions, model } = scan;
  const eq = bookEquity(positions, scan.cash, mkt);
  const mm: Record<string, number> = {};
  if (positions.length > 0) {
    const byCur =
      model === "portfolio"
        ? portfolioMargin(positions, mkt, scan.pmParams).byCurrency
        : standardBookMargin(positions, mkt, scan.smParams).byCurrency;
    for (const [c, m] of Object.entries(byCur)) mm[c] = m.maintenance;
  }
  const out: Record<string, number> = {};
  let pooled = 0;
  for (const c of scan.accounts) {
    const e = eq.byCurrency[c];
    const equity = e?.equity ?? 0;
    const px = e?.usdPerUnit ?? usdPerUnit(c, mkt) ?? 0;
    out[c] = equity - (mm[c] ?? 0);
    pooled += px * (equity - (mm[c] ?? 0));
  }
  out[POOLED] = scan.pooledModel === "cross" ? eq.equityUsd - crossMaintenanceUsd(scan, mkt) : pooled;
  return out;
}

function crossMaintenanceUsd(scan: LiquidationScan, mkt: RiskMarket): number {
  if (scan.positions.length === 0 && Object.keys(scan.cash ?? {}).length === 0) return 0;
  return crossPortfolioMargin({
    positions: scan.positions,
    cash: scan.cash ?? {},
    market: mkt,
    params: scan.pmParams,
  }).maintenanceUsd;
}

/**
 * First crossing (surplus < 0) per account along x -> at(x) over the scan points, the bracket
 * bisected to the scan's tolerance; 0 when already below at the start, null when none crosses.
 */
function firstCrossings(
  scan: LiquidationScan,
  s0: Readonly<Record<string, number>>,
  points: readonly number[],
  at: (x: number) => RiskMarket,
): Record<string, number | null> {
  const found: Record<string, number | null> = {};
  const open = new Set(scan.keys.filter((k) => (s0[k] ?? 0) >= 0));
  for (const k of scan.keys) found[k] = (s0[k] ?? 0) < 0 ? 0 : null;
  let prev = 0;
  for (const x of points) {
    if (open.size === 0) break;
    const s = surplusAt(scan, at(x));
    for (const k of [...open]) {
      if ((s[k] ?? 0) >= 0) continue;
      open.delete(k);
      let lo = prev;
      let hi = x;
      while (Math.abs(hi - lo) > scan.tol) {
        const mid = (lo + hi) / 2;
        if ((surplusAt(scan, at(mid))[k] ?? 0) < 0) hi = mid;
        else lo = mid;
      }
      found[k] = hi;
    }
    prev = x;
  }
  return found;
}

/** Scan points: steps of `step` up to |knee|, then growing 10% a point up to |end| (signed like end). */
function scanPoints(step: number, knee: number, end: number): number[] {
  const out: number[] = [];
  const sign = Math.sign(end);
  const k = Math.min(Math.abs(knee), Math.abs(end));
  const n = Math.ceil(k / step - 1e-9);
  for (let i = 1; i <= n; i++) out.push(sign * Math.min(i * step, k));
  for (let x = k * 1.1; x < Math.abs(end) * 1.1; x *= 1.1) out.push(sign * Math.min(x, Math.abs(end)));
  return out;
}

function liquidationScan(o: RevaluedLiquidationOptions): LiquidationScan {
  assertLive(o.positions, o.market);
  const model = o.margin ?? "portfolio";
  const tol = requirePositive("tolerance", o.tolerance ?? 1e-6);
  const positions = resolveFutureEntries(o.positions, o.market);
  const accounts = Object.keys(bookEquity(positions, o.cash, o.market).byCurrency);
  const pooledModel = o.pooledMargin ?? "sum-of-accounts";
  if (pooledModel === "cross" && model !== "portfolio")
    throw new InvalidInputError("pooledMargin", pooledModel, 'needs margin "portfolio"');
  return {
    positions,
    cash: o.cash,
    model,
    pooledModel,
    pmParams: o.portfolioParams ?? DERIBIT_PORTFOLIO_MARGIN,
    smParams: o.standardParams ?? DERIBIT_STANDARD_MARGIN,
    keys: [...accounts, POOLED],
    accounts,
    tol,
  };
}

type SpotDistances = AccountLiquidationDistance["spot"];

/** Spot-move distances per account and surface dynamics (down to -99%, up to +1000%). */
function spotDistances(
  scan: LiquidationScan,
  s0: Readonly<Record<string, number>>,
  market: RiskMarket,
  dynamics: readonly SurfaceDynamics[],
  spotStep: number,
): Record<string, SpotDistances> {
  const downPts = scanPoints(spotStep, 0.99, -0.99);
  const upPts = scanPoints(spotStep, 1, 10);
  const spot: Record<string, Record<string, { down: number | null; up: number | null }>> = {};
  for (const k of scan.keys) spot[k] = {};
  for (const d of dynamics) {
    const at = (x: number) => applyScenario(market, { spotShift: x, volShift: 0, surfaceDynamics: d });
    const down = firstCrossings(scan, s0, downPts, at);
    const up = firstCrossings(scan, s0, upPts, at);
    for (const k of scan.keys) {
      const byDynamics = spot[k];
      if (byDynamics) byDynamics[d] = { down: down[k] ?? null, up: up[k] ?? null };
    }
  }
  return spot as Record<string, SpotDistances>;
}

/**
 * Distance to liquidation by full revaluation, per currency account and pooled. At each bumped
 * market (spot: every underlying's index, forwards and futures moved by the same relative x, the
 * surface sticky-strike or sticky-moneyness; vol: every IV + x), positions AND coin cash are
 * revalued (account.ts bookEquity: a BTC account's cash is BTC, its equity in BTC) and the
 * maintenance margin is recomputed with the same engine (portfolioMargin or standardBookMargin
 * on that market). A segregated account is liquidated when its equity falls below its own
 * maintenance; the pooled (cross-collateral) account when sum_c px_c (equity_c - maintenance_c)
 * < 0 (or, with pooledMargin "cross", when equity in USD < the X:PM maintenance of
 * crossPortfolioMargin). No haircut: Deribit applies cross-collateral haircuts to the initial
 * margin only ("Cross collateral specifications"), and documents 0 for btc, eth and usd
 * (params/). Each distance is the first move along the path from 0 where that happens: the path
 * is scanned (spot in steps of 2% to -99% and to +100%, then growing 10% a point to +1000%; vol
 * in steps of 2 points to +100, then 10% a point to +500) and the first bracket bisected to
 * `tolerance`; null when no scanned point crosses (a dip narrower than a step can be missed).
 * Futures without an entry price are taken as entered at the current market before bumping.
 */
export function liquidationByRevaluation(o: RevaluedLiquidationOptions): RevaluedLiquidation {
  const scan = liquidationScan(o);
  const spotStep = requirePositive("spotStep", o.spotStep ?? 0.02);
  const volStep = requirePositive("volStep", o.volStep ?? 0.02);
  const base = bookEquity(scan.positions, o.cash, o.market);
  const s0 = surplusAt(scan, o.market);
  const spot = spotDistances(scan, s0, o.market, o.dynamics ?? ALL_DYNAMICS, spotStep);
  const volPts = scanPoints(volStep, 1, 5);
  const vol = firstCrossings(scan, s0, volPts, (x) => applyScenario(o.market, { spotShift: 0, volShift: x }));
  const row = (k: string): AccountLiquidationDistance => {
    const pooled = k === POOLED;
    const px = pooled ? 1 : (base.byCurrency[k]?.usdPerUnit ?? 0);
    const equity = pooled ? base.equityUsd : (base.byCurrency[k]?.equity ?? 0);
    const buffer = s0[k] ?? 0;
    return {
      account: k,
      unit: pooled ? "USD" : k,
      equity,
      maintenance: equity - buffer,
      buffer,
      bufferUsd: buffer * px,
      alreadyBelowMaintenance: buffer < 0,
      spot: spot[k] ?? ({} as SpotDistances),
      volUp: vol[k] ?? null,
    };
  };
  const byCurrency: Record<string, AccountLiquidationDistance> = {};
  for (const k of scan.accounts) byCurrency[k] = row(k);
  return {
    byCurrency,
    pooled: row(POOLED),
    margin: scan.model,
    pooledMargin: scan.pooledModel,
    unpriced: base.unpriced.map((u) => `${u.amount} ${u.currency}: ${u.reason}`),
  };
}
