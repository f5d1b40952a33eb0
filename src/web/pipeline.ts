/**
 * The demo pipeline: market -> surface fit -> book risk, stress, margin -> optimizer -> backtest
 * -> vol index / regime. Calls library functions only; each step is isolated so a failing area
 * leaves its section absent with the reason instead of crashing the demo.
 */
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadChainFile } from "../adapters/chainFile.js";
import { loadOptimizeSpecFile, optimizeSpecParts } from "../adapters/optimizeSpec.js";
import { assertCleanBook, loadPortfolioFile, type PortfolioFile } from "../adapters/portfolioFile.js";
import { loadPriceHistory } from "../adapters/priceHistory.js";
import { loadStrategyFile } from "../adapters/strategyFile.js";
import { runBacktest } from "../core/backtest/engine.js";
import { drawdownSeries } from "../core/backtest/metrics.js";
import { syntheticSteps } from "../core/backtest/syntheticMarket.js";
import type { Position } from "../core/instruments/types.js";
import { normalizeChain } from "../core/market/normalize.js";
import type { ChainSnapshot } from "../core/market/types.js";
import { chainNote, type OptimizeSpecCore, optimizeProblemOnMarket } from "../core/optimize/fromChain.js";
import { efficientFrontier } from "../core/optimize/frontier.js";
import { type LpSolver, loadLpSolver } from "../core/optimize/lpSolver.js";
import { optimizePortfolio } from "../core/optimize/optimize.js";
import type { CandidateFilter, OptimizeProblem } from "../core/optimize/spec.js";
import type { OhlcBar } from "../core/regime/realizedVol.js";
import { regimeReport } from "../core/regime/report.js";
import { syntheticDailyBars } from "../core/regime/syntheticBars.js";
import { createRng } from "../core/math/rng.js";
import { chainMarketInputs } from "../core/risk/chainMarket.js";
import { compileBook, scenarioPortfolioPnl } from "../core/risk/grid.js";
import { linspace, type ScenarioGridOptions, scenarioGrid } from "../core/risk/scenario.js";
import { runStress } from "../core/risk/stress.js";
import { STRESS_LIBRARY } from "../core/risk/stressLibrary.js";
import { calibrateSurfaceFromQuotes, DEFAULT_SURFACE_MODEL } from "../core/surface/calibrate.js";
import { surfaceTermStructure } from "../core/surface/queries.js";
import { surfaceArbitrageReport } from "../core/surface/arbitrage.js";
import { type RichCheapEntry, richCheapList } from "../core/surface/richCheap.js";
import { loadBacktestData } from "../adapters/backtestData.js";
import { dvolIndex } from "../core/volindex/dvol.js";
import {
  bookGreeks,
  bookMargin,
  describeChains,
  expiredRows,
  GREEK_UNITS,
  MARGIN_UNITS,
  neededUnderlyings,
  syntheticChainsFor,
  type ValuedBook,
  valueBookOnBookMarket,
  valueBookOnChains,
  valueBookOnInputs,
} from "./bookMarket.js";
import { placeDemoBook } from "./demoBook.js";
import { forecastPanel } from "./forecastPanel.js";
import { dvolFileFor, loadHistorySection } from "./history.js";
import type { BookSection, DemoReport, ReportSection } from "./report.js";
import { DAY_MS } from "../core/time.js";

/** Margin budget of the demo optimizer run (USD); see the optimizer step. */
export const DEMO_MARGIN_BUDGET_USD = 400_000;

const HERE = dirname(fileURLToPath(import.meta.url));
/** Repository root from src/web or dist/web. */
export const REPO_ROOT = resolve(HERE, "..", "..");

export interface PipelineOptions {
  readonly seed?: number;
  /** Chain file (Deribit CSV/.csv.gz, Tardis CSV, Deribit API JSON); default a synthetic chain. */
  readonly chainFile?: string;
  /** An already loaded chain (e.g. fetched live from Deribit); wins over `chainFile`. */
  readonly chain?: ChainSnapshot;
  /** Where `chain` came from, for the report's `source` line. */
  readonly chainSource?: string;
  /** Book for the risk, stress and margin sections (default examples/book.json; see runDemoPipeline). */
  readonly bookFile?: string;
  /**
   * Value the book on its file's own market section (parametric surfaces) instead of the loaded
   * chain: the pre-chain behaviour, kept as an explicit fallback (`volfolio demo --book-market`).
   */
  readonly bookMarket?: boolean;
  readonly specFile?: string;
  readonly strategyFile?: string;
  readonly priceHistoryFile?: string;
  /** Points on the optimizer's efficient frontier (default 7). */
  readonly frontierPoints?: number;
  /** Backtest length in hourly steps (default 90 days) on the synthetic market. */
  readonly backtestSteps?: number;
  /**
   * Directory of daily Deribit chain files (../shared/data/deribit/daily): the backtest then runs
   * on the real chain history of the loaded underlying, the 90 days up to the valuation date.
   */
  readonly backtestDataDir?: string;
  /** Directory of daily chain files for the History tab (web/history.ts); absent: no History section. */
  readonly historyDir?: string;
  /** At most this many stored days, evenly spaced, ending at the last (default all). */
  readonly historyMaxDays?: number;
  /** Progress of the history step: files done of total. */
  readonly onHistoryFile?: (done: number, total: number) => void;
  /** Called with the loaded market's chains and the valued book (the builder's market). */
  readonly onMarket?: (m: {
    chains: readonly ChainSnapshot[];
    label: string;
    book?: { label: string; positions: readonly Position[]; cash: Record<string, number> };
  }) => void;
  /** Progress: called when a step starts and when it ends (with its time in ms and error, if any). */
  readonly onProgress?: (e: { step: string; phase: "start" | "done"; ms?: number; error?: string }) => void;
}

const iso = (t: number | null | undefined) =>
  t === null || t === undefined ? "" : new Date(t).toISOString();
const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n")[0] ?? "";

/** Offset of the synthetic price history's seed from the demo seed (no real history file). */
const HISTORY_SEED_OFFSET = 7;

/**
 * Runs every demo step and returns the report. Never throws because one area failed.
 *
 * Risk, stress, margin and the optimizer value the book on the loaded market by the step the CLI's
 * risk, stress, margin and optimize share (web/bookMarket.ts on core/risk/chainMarket.ts: chain
 * index and forwards, options at their chain mark vols, the fitted surface pinned to the marks
 * where the chain has no mark). Legs expired at the market's time are settled once at the index
 * (report.book.expired; their value joins the cash in equity); positions that market cannot value
 * (other underlying, outside the listed expiries) are listed in report.book.excluded; neither
 * reaches a figure. On the synthetic market the book's underlyings get seeded synthetic chains at
 * the same instant (syntheticChainsFor: BTC seed, the next underlying seed + 1, ...: the market of
 * `volfolio risk --synthetic --seed <seed> --time <the book's market time>`). Without `bookFile`,
 * on a chain file or a live chain, the sample book is placed on the loaded chain (web/demoBook.ts).
 * `bookMarket` values the book on its own market section instead.
 */
export async function runDemoPipeline(o: PipelineOptions = {}): Promise<DemoReport> {
  const seed = o.seed ?? 42;
  const bookFile = o.bookFile ?? resolve(REPO_ROOT, "examples/book.json");
  const specFile = o.specFile ?? resolve(REPO_ROOT, "examples/optimize-spec.json");
  const strategyFile = o.strategyFile ?? resolve(REPO_ROOT, "examples/strategies/short-strangle-hedged.json");
  const priceFile = o.priceHistoryFile ?? resolve(REPO_ROOT, "../shared/data/prices/BTC-USD_daily.csv");
  const report: DemoReport = {
    generatedBy: "volfolio demo",
    seed,
    source: o.chain
      ? (o.chainSource ?? `${o.chain.underlying} chain`)
      : o.chainFile
        ? `chain file ${o.chainFile}`
        : `synthetic chain (seed ${seed})`,
    valuationTime: "",
    timings: [],
    unavailable: {},
  };
  const step = async <T>(
    name: string,
    sections: ReportSection[],
    fn: () => Promise<T> | T,
  ): Promise<T | undefined> => {
    o.onProgress?.({ step: name, phase: "start" });
    const t0 = performance.now();
    try {
      const v = await fn();
      const ms = performance.now() - t0;
      report.timings.push({ step: name, ms });
      o.onProgress?.({ step: name, phase: "done", ms });
      return v;
    } catch (e) {
      const ms = performance.now() - t0;
      report.timings.push({ step: name, ms });
      for (const s of sections) report.unavailable[s] = `${name} failed: ${firstLine(e)}`;
      o.onProgress?.({ step: name, phase: "done", ms, error: firstLine(e) });
      return undefined;
    }
  };

  const book = await step("load book", ["greeks", "scenarios", "stress", "margin"], async () => {
    const f = await loadPortfolioFile(bookFile);
    assertCleanBook(f, bookFile);
    if (o.bookMarket && !f.market)
      throw new Error("book has no market section (--book-market values the book on it)");
    return f;
  });
  const valuationTime = book?.market?.valuationTime ?? Date.UTC(2026, 1, 2, 8);
  report.valuationTime = iso(valuationTime);

  // The market: the main chain (surface, optimizer, vol index) and the chains the book's other
  // underlyings are valued on (a chain file's, or seeded synthetic ones: web/bookMarket.ts).
  let otherChains: ChainSnapshot[] = [];
  let chainLabels: string[] | undefined;
  const chain = await step(
    "market",
    ["surface", "optimizer", "volIndex"],
    async (): Promise<ChainSnapshot> => {
      if (o.chain) return o.chain;
      if (o.chainFile) {
        const r = await loadChainFile(o.chainFile);
        const c = r.chains.find((x) => x.underlying === "BTC") ?? r.chains[0];
        if (!c) throw new Error(`no option chain in ${o.chainFile}`);
        otherChains = r.chains.filter((x) => x !== c);
        return c;
      }
      const needed = neededUnderlyings(book?.positions ?? [], ["BTC"]);
      const s = syntheticChainsFor(needed, { seed, valuationTime, ...(book ? { book } : {}) });
      otherChains = s.chains.slice(1);
      chainLabels = needed.map((u, n) => `synthetic ${u} chain (seed ${seed + n})`);
      return s.chains[0] as ChainSnapshot;
    },
  );
  if (chain) report.valuationTime = iso(chain.valuationTime);

  // The surface section's fit (display: slices, fitted curves, rich/cheap, the arbitrage check)
  // by the core's default model (calibrateSurfaceFromQuotes; svi-af since issue 21), named in the
  // section. The market the book is valued on is the book commands' SVI fit pinned to the chain's
  // marks (web/bookMarket.ts), so its option vols are the marks whichever model is shown here.
  await step("surface fit", ["surface"], () => {
    if (!chain) throw new Error("no market");
    const norm = normalizeChain(chain);
    const res = calibrateSurfaceFromQuotes(norm.snapshot.quotes);
    if (!res.fit.ok) throw new Error(`${res.fit.reason}: ${res.fit.message}`);
    const f = res.fit.value;
    const term = surfaceTermStructure(f.surface);
    // Every quote of each expiry (the smile's quoted strike range; the fit uses the out-of-the-money
    // side), from the clean snapshot.
    const byExpiry = new Map<number, (typeof norm.snapshot.quotes)[number][]>();
    for (const q of norm.snapshot.quotes) {
      const a = byExpiry.get(q.instrument.expiry);
      if (a) a.push(q);
      else byExpiry.set(q.instrument.expiry, [q]);
    }
    const expiries = f.slices.map((s, i) => {
      const quotes = f.data[i]?.quotes ?? [];
      const all = [...(s.expiryTime !== null ? (byExpiry.get(s.expiryTime) ?? []) : [])].sort(
        (a, b) =>
          a.instrument.strike - b.instrument.strike || a.instrument.kind.localeCompare(b.instrument.kind),
      );
      const ks = [...quotes.map((q) => q.k), ...all.map((q) => q.logMoneyness)];
      const lo = Math.min(...ks);
      const hi = Math.max(...ks);
      return {
        expiry: iso(s.expiryTime),
        timeToExpiry: s.expiry,
        forwardUsd: s.forward,
        points: quotes.map((q) => ({ k: q.k, bidVol: q.bidVol, askVol: q.askVol, midVol: q.targetVol })),
        quotes: all.map((q) => ({
          instrument: q.instrument.name,
          strike: q.instrument.strike,
          kind: q.instrument.kind,
          k: q.logMoneyness,
          bidVol: q.bidVol,
          askVol: q.askVol,
          markVol: q.markVol,
        })),
        fit: linspace(lo, hi, 61).map((k) => ({
          k,
          strike: s.forward * Math.exp(k),
          vol: f.surface.impliedVol(k, s.expiry),
        })),
        kRange: [lo, hi] as [number, number],
        atmVol: s.atmVol,
        rmseVolPts: s.rmseVolPts,
      };
    });
    // 3D view: every expiry, each row drawn over its own quoted k range (null outside it), so
    // short expiries' steep wings do not stretch the vol axis and no expiry is left out.
    const kLo = Math.max(-1.5, Math.min(...expiries.map((e) => e.kRange[0])));
    const kHi = Math.min(1.5, Math.max(...expiries.map((e) => e.kRange[1])));
    const kGrid = linspace(kLo, kHi, 61);
    const arb = surfaceArbitrageReport(f.surface);
    report.surface = {
      underlying: chain.underlying,
      model: f.model,
      expiries,
      term: f.slices.map((s, i) => ({
        expiry: iso(s.expiryTime),
        timeToExpiry: s.expiry,
        atmVol: term[i]?.atmVol ?? s.atmVol,
        rr25: term[i]?.riskReversal25 ?? Number.NaN,
        bf25: term[i]?.butterfly25 ?? Number.NaN,
      })),
      richCheap: richCheapList(f.surface, f.data)
        .slice(0, 15)
        .map((r) => ({
          name: r.name,
          volDiffPts: r.volDiffPts,
          bidVol: r.bidVol,
          askVol: r.askVol,
          targetVol: r.targetVol,
          fittedVol: r.fittedVol,
          signal: quoteSignal(r),
        })),
      grid: {
        k: kGrid,
        timeToExpiry: expiries.map((e) => e.timeToExpiry),
        expiry: expiries.map((e) => e.expiry),
        vol: expiries.map((e) =>
          kGrid.map((k) =>
            k >= e.kRange[0] - 1e-12 && k <= e.kRange[1] + 1e-12
              ? f.surface.impliedVol(k, e.timeToExpiry)
              : null,
          ),
        ),
      },
      arbitrage: {
        free: arb.free,
        butterflyFree: arb.butterflyFree,
        calendarFree: arb.calendarFree,
        butterfly: arb.butterfly
          .map((b, i) => ({
            expiry: expiries[i]?.expiry ?? "",
            minDensityG: b.minDensityG,
            at: b.minDensityAt,
            points: b.negativeDensityPoints,
          }))
          .filter((b) => b.points > 0),
        calendar: arb.calendar
          .map((c, i) => ({
            from: expiries[i]?.expiry ?? "",
            to: expiries[i + 1]?.expiry ?? "",
            minIncrease: c.minIncrease,
            at: c.minIncreaseAt,
            points: c.violations,
          }))
          .filter((c) => c.points > 0),
      },
    };
  });

  const riskBook = book
    ? await step("risk market", ["greeks", "scenarios", "stress", "margin"], () =>
        bookOnLoadedMarket({
          book,
          bookLabel: o.bookFile ? `book file ${o.bookFile}` : "examples/book.json",
          placeDefault: !o.bookFile && !(!o.chain && !o.chainFile),
          bookMarket: o.bookMarket === true,
          chain,
          otherChains,
          ...(chainLabels ? { chainLabels } : {}),
          report,
        }),
      )
    : undefined;

  if (chain)
    try {
      const chainsFor = [chain, ...otherChains];
      o.onMarket?.({
        chains: chainsFor,
        label: describeChains(chainsFor),
        ...(riskBook && riskBook.source !== "book-market"
          ? {
              book: {
                label: report.book?.label ?? "book",
                positions: riskBook.positions,
                cash: { ...riskBook.cash },
              },
            }
          : {}),
      });
    } catch (e) {
      report.unavailable.builder = `builder market failed: ${firstLine(e)}`;
    }

  if (riskBook) {
    const book = riskBook;
    await step("greeks", ["greeks"], () => {
      const { greeks: g, byUnderlying } = bookGreeks(book);
      const rows: NonNullable<DemoReport["greeks"]>["rows"] = [];
      for (const [u, buckets] of Object.entries(g.byUnderlyingBucket))
        for (const [bucket, x] of Object.entries(buckets))
          rows.push({
            underlying: u,
            bucket,
            cashDeltaUsd: x.cashDeltaUsd,
            cashGammaUsd: x.cashGammaUsd,
            vegaUsd: x.vegaUsd,
            thetaUsdPerDay: x.thetaUsdPerDay,
          });
      report.greeks = { rows, totalUsd: { ...g.totalUsd }, byUnderlying, units: { ...GREEK_UNITS } };
    });
    await step("scenario grid", ["scenarios"], () => {
      const spotShocks = linspace(-0.3, 0.3, 13);
      const volShocks = linspace(-0.2, 0.2, 9);
      const pnl = scenarioPortfolioPnl(
        compileBook(book.positions, book.market),
        scenarioGrid({ spotShifts: spotShocks, volShifts: volShocks }),
      );
      // scenarioGrid is spot-outer, vol-inner: row i = vol shock i, column j = spot shock j.
      report.scenarios = {
        spotShocks,
        volShocks,
        pnl: volShocks.map((_, i) => spotShocks.map((_, j) => pnl[j * volShocks.length + i] as number)),
      };
    });
    await step("stress", ["stress"], () => {
      report.stress = runStress({
        positions: book.positions,
        market: book.market,
        entries: STRESS_LIBRARY,
      }).map((r) => ({
        id: r.id,
        kind: r.kind,
        spotShift: r.scenario.spotShift,
        volShift: r.scenario.volShift,
        pnlUsd: r.pnlUsd,
        closeCostUsd: r.closeCostUsd,
        stressedLossUsd: r.stressedLossUsd,
      }));
    });
    await step("margin", ["margin"], () => {
      // The figures `volfolio margin` prints, by the same function (web/bookMarket.ts bookMargin):
      // standard and portfolio margin with its components per settlement currency, account
      // equity (cash, settled expired legs and positions) and the distance to liquidation by full
      // revaluation per segregated account and pooled.
      const m = bookMargin(book);
      for (const x of m.account.unpriced)
        report.book?.notes.push(`${x.amount} ${x.currency} left out of equity: ${x.reason}`);
      for (const line of m.unpriced.filter((l) => / maintenance margin /.test(l)))
        report.book?.notes.push(`${line}: left out of the USD sum`);
      report.margin = {
        // initial / maintenance: the standard margin, as this section always showed it.
        byCurrency: m.byCurrency.map((r) => ({ ...r, initial: r.stdInitial, maintenance: r.stdMaintenance })),
        accounts: m.accounts,
        equityUsd: m.equityUsd,
        maintenanceUsd: m.portfolioMaintenanceUsd,
        portfolioInitialUsd: m.portfolioInitialUsd,
        portfolioMaintenanceUsd: m.portfolioMaintenanceUsd,
        standardInitialUsd: m.standardInitialUsd,
        standardMaintenanceUsd: m.standardMaintenanceUsd,
        unpriced: m.unpriced,
        liquidation: { ...m.liquidation },
        liquidationByAccount: m.liquidationByAccount,
        liquidationMargin: m.liquidationMargin,
        units: { ...MARGIN_UNITS },
      };
    });
  }

  let optimizeProblem: OptimizeProblem | undefined;
  let lpSolver: LpSolver | undefined;
  await step("optimizer", ["optimizer"], async () => {
    if (!chain) throw new Error("no market (see the market step)");
    const specF = await loadOptimizeSpecFile(specFile);
    const parts = optimizeSpecParts(specF);
    const { filter } = parts;
    // The sample book alone uses about 255k USD of the linear margin proxy, above the example
    // spec's 250k budget; the demo (default spec only) allows 400k so a proposal can exist.
    const spec = o.specFile
      ? parts.spec
      : {
          ...parts.spec,
          constraints: { ...parts.spec.constraints, marginBudgetUsd: DEMO_MARGIN_BUDGET_USD },
        };
    const built = optimizerOnRiskMarket({
      chain,
      riskBook,
      positions: book?.positions ?? [],
      spec,
      filter,
      ...(specF.scenarios ? { scenarioGrid: specF.scenarios } : {}),
      stress: specF.stress,
      surfaceModel: specF.surfaceModel,
    });
    optimizeProblem = built.problem;
    lpSolver = await loadLpSolver();
    const r = optimizePortfolio(built.problem, lpSolver);
    const flat = (s: typeof r.before) => ({
      ...s.greeks,
      cvarUsd: s.cvarUsd,
      worstStressLossUsd: s.worstStressLossUsd,
      marginUsd: s.marginUsd,
    });
    report.optimizer = {
      status: r.status,
      objectiveUsd: r.objectiveUsd,
      trades: r.trades.map((t) => ({
        instrument: t.name,
        contracts: t.side === "sell" ? -t.contracts : t.contracts,
        limitPriceUsd: t.limitPriceUsd,
        edgeUsd: t.edgeUsd,
        explanation: t.explanation,
      })),
      before: flat(r.before),
      after: flat(r.after),
      notes: [...built.notes, ...r.notes, ...(r.diagnosis ? [`infeasible: ${r.diagnosis.text}`] : [])],
      frontier: null,
    };
  });

  // Efficient frontier (objective against the CVaR limit) of the same problem; a failure here
  // leaves the proposal in place and says why in the frontier's place.
  const opt = report.optimizer;
  if (opt && optimizeProblem && lpSolver && opt.status === "optimal") {
    const problem = optimizeProblem;
    const solver = lpSolver;
    let why = "the CVaR range could not be bracketed";
    const fr = await step("frontier", [], async () => {
      try {
        return efficientFrontier(problem, solver, { points: o.frontierPoints ?? 7 });
      } catch (e) {
        why = firstLine(e);
        throw e;
      }
    });
    if (fr && fr.points.length > 0)
      opt.frontier = {
        alpha: fr.alpha,
        objectiveKind: fr.objectiveKind,
        minCvarUsd: fr.minCvarUsd,
        unconstrainedCvarUsd: fr.unconstrainedCvarUsd,
        points: fr.points.map((q) => ({
          cvarLimitUsd: q.cvarLimitUsd,
          cvarUsd: q.cvarUsd,
          objectiveUsd: q.objectiveUsd,
          vegaUsdPerVolPt: q.vegaUsdPerVolPt,
          thetaUsdPerDay: q.thetaUsdPerDay,
          trades: q.trades,
          status: q.status,
        })),
      };
    else opt.notes.push(`frontier not available: ${why}`);
  }

  await step("backtest", ["backtest"], async () => {
    if (!chain) throw new Error("no market (see the market step)");
    const strategy = await loadStrategyFile(strategyFile);
    const t1 = chain.valuationTime;
    const day = (t: number) => new Date(t).toISOString().slice(0, 10);
    let steps: Iterable<import("../core/backtest/market.js").BacktestStep>;
    let dataSource: string;
    let kind: "chain-history" | "synthetic";
    if (o.backtestDataDir) {
      // The real chain history of the loaded underlying: the 90 days up to the valuation date.
      const from = day(t1 - 90 * DAY_MS);
      const to = day(t1);
      const d = await loadBacktestData({ dir: o.backtestDataDir, underlying: chain.underlying, from, to });
      const kept = d.steps.filter((x) => x.time <= t1);
      if (kept.length < 2)
        throw new Error(
          `fewer than 2 ${chain.underlying} snapshots in ${o.backtestDataDir} between ${from} and ${to} (${d.files} files)`,
        );
      steps = kept;
      kind = "chain-history";
      dataSource = `Deribit ${chain.underlying} daily chains in ${o.backtestDataDir}: ${kept.length} snapshots, ${day(kept[0]?.time ?? t1)} to ${day(kept.at(-1)?.time ?? t1)}${d.skippedFiles.length ? ` (${d.skippedFiles.length} files skipped)` : ""}`;
    } else {
      // No history given: a seeded synthetic market of the loaded underlying that ENDS at the
      // valuation time (no date past it), started at the loaded index, at its 30-day ATM vol.
      const n = o.backtestSteps ?? 90 * 24;
      const start = t1 - n * 3_600_000;
      const atm = report.surface?.term.find((x) => x.timeToExpiry >= 30 / 365)?.atmVol ?? 0.5;
      steps = syntheticSteps({
        steps: n,
        seed,
        spot: chain.indexPrice,
        start,
        underlying: chain.underlying,
        model: { type: "gbm", drift: 0, vol: atm },
      });
      kind = "synthetic";
      dataSource = `synthetic ${chain.underlying} market (seed ${seed}, GBM at the loaded 30-day ATM vol ${(100 * atm).toFixed(1)}%, started at the loaded index ${chain.indexPrice.toFixed(0)}), hourly ${day(start)} to ${day(t1)}: not the market's history (give a data directory, --data, for the real chain history)`;
    }
    const r = runBacktest({ strategy, steps, recordTrades: false });
    const equity = r.daily.map((d) => d.equityUsd);
    const drawdown = drawdownSeries(equity);
    const comps = [
      "deltaUsd",
      "gammaUsd",
      "vegaUsd",
      "thetaUsd",
      "vannaUsd",
      "volgaUsd",
      "residualUsd",
      "settlementUsd",
      "tradingUsd",
    ] as const;
    const dates = r.daily.map((d) => iso(d.time));
    report.backtest = {
      strategy: r.strategy,
      kind,
      dataSource,
      from: dates[0] ?? "",
      to: dates.at(-1) ?? "",
      dates,
      equityUsd: equity,
      drawdown,
      attribution: comps.map((c) => ({
        component: c.replace("Usd", ""),
        usd: r.attribution.reduce((a, d) => a + d[c], 0),
      })),
      metrics: r.metricsUsd ? { ...r.metricsUsd } : null,
    };
  });

  await step("vol index", ["volIndex"], () => {
    if (!chain) throw new Error("no market");
    // Deribit's DVOL method (core/volindex/dvol.ts), the default of `volfolio index` for Deribit
    // chains, on the core market model's normalized chain.
    const v = dvolIndex(normalizeChain(chain).snapshot);
    report.volIndex = {
      underlying: v.underlying,
      method: v.method,
      index: v.index,
      term: v.expiries.map((e) => ({ expiry: iso(e.expiry), vol: e.vol })),
    };
  });

  await step("regime", ["regime"], async () => {
    // The real BTC history when it is there (../shared/data or --prices); on a fresh machine a
    // seeded synthetic history with calm/stressed vol regimes, labelled as such.
    let bars: readonly (OhlcBar & { date: string })[];
    let source: string;
    const u = chain?.underlying ?? "BTC";
    const files = o.priceHistoryFile ? [priceFile].filter((f) => existsSync(f)) : priceHistoryFiles(u);
    const valDay = report.valuationTime.slice(0, 10);
    if (files.length > 0) {
      // Merge the files by date (later files win) and keep the days up to the valuation date.
      const byDate = new Map<string, OhlcBar & { date: string }>();
      for (const f of files) for (const b of (await loadPriceHistory(f)).bars) byDate.set(b.date, b);
      bars = [...byDate.values()]
        .filter((b) => b.date <= valDay)
        .sort((a, b) => a.date.localeCompare(b.date));
      if (bars.length < 30)
        throw new Error(`fewer than 30 daily prices up to ${valDay} in ${files.join(", ")}`);
      const last = bars.at(-1)?.date ?? "";
      const behind = Math.round((Date.parse(valDay) - Date.parse(last)) / DAY_MS);
      source = `${files.map((f) => f.split("/").pop()).join(" + ")} (${bars.length} days, ${bars[0]?.date} to ${last})`;
      if (behind > STALE_HISTORY_DAYS)
        report.regime = {
          source,
          dates: [],
          realizedVol: [],
          garchVol: [],
          highVolProbability: [],
          stale: { lastDate: last, valuationDate: valDay, daysBehind: behind },
        };
    } else {
      const days = 1000;
      bars = syntheticDailyBars(
        { days, start: valuationTime - days * DAY_MS, spot: 100_000 },
        createRng(HISTORY_SEED_OFFSET + seed),
      ).bars;
      source = `synthetic BTC history with calm/stressed vol regimes (seed ${HISTORY_SEED_OFFSET + seed}; no ${o.priceHistoryFile ?? `price history of ${u} in ../shared/data/prices`})`;
    }
    const stale = report.regime?.stale;
    const r = regimeReport(bars, {
      lookback: 720,
      ...(report.volIndex ? { impliedVol: report.volIndex.index / 100 } : {}),
    });
    report.regime = {
      source,
      ...(stale ? { stale } : {}),
      dates: r.series.map((s) => s.date),
      realizedVol: r.series.map((s) => s.realizedVol),
      garchVol: r.series.map((s) => s.garchVol),
      highVolProbability: r.series.map((s) => s.highVolProbability),
      ...forecastSection(bars),
    };
  });
  if (o.historyDir) {
    const dir = o.historyDir;
    await step("history", ["history"], async () => {
      const u = chain?.underlying ?? "BTC";
      const dvol = dvolFileFor(REPO_ROOT, u);
      report.history = await loadHistorySection({
        dir,
        underlying: u,
        ...(o.historyMaxDays !== undefined ? { maxDays: o.historyMaxDays } : {}),
        priceFiles: priceHistoryFiles(u),
        ...(dvol ? { dvolFile: dvol } : {}),
        ...(o.onHistoryFile ? { onFile: o.onHistoryFile } : {}),
      });
    });
  } else
    report.unavailable.history =
      "no history given: run with --history ../shared/data/deribit/daily (the daily chain files)";
  report.unavailable.agent =
    'no agent connected: start `volfolio agent` with "http": {"port": 8788} in its config, then pass --agent-url http://127.0.0.1:8788';
  return report;
}

/**
 * The demo optimizer's problem, valued on the risk sections' market: the book and every candidate
 * go through the same market as the greeks, scenario, stress and margin sections (web/bookMarket.ts
 * on core/risk/chainMarket.ts: chain index and forwards, options at their chain mark vols via the
 * fitted surface pinned to the marks), so the optimizer's "before" greeks are the greeks
 * section's figures of the chain's underlying and "after" is the book plus the chosen trades on
 * that same market. A candidate's fair value is then Black-76 at its mark vol (its chain mark),
 * so trading costs are measured from the mark. Expired legs (settled) and positions the market
 * cannot value are left out as in the book section; positions on other underlyings are left out
 * (the candidates are one chain's quotes). All are named in the notes. With --book-market the
 * risk sections use the book file's own market, which does not price the chain's quotes: book and
 * candidates are then valued on the loaded chain by the same shared step and the notes say so.
 */
function optimizerOnRiskMarket(o: {
  chain: ChainSnapshot;
  riskBook: ValuedBook | undefined;
  /** The book file's positions (used when the risk sections are not on the chain). */
  positions: readonly Position[];
  spec: OptimizeSpecCore;
  filter: CandidateFilter;
  scenarioGrid?: ScenarioGridOptions;
  stress: boolean;
  surfaceModel: string;
}): { problem: OptimizeProblem; notes: string[] } {
  const u = o.chain.underlying;
  const onChain = o.riskBook && o.riskBook.source !== "book-market" ? o.riskBook : undefined;
  const v = onChain?.inputs.some((i) => i.normalized.snapshot.underlying === u)
    ? onChain
    : valueBookOnChains({
        source: "chain",
        label: describeChains([o.chain]),
        positions: o.riskBook ? o.positions : [],
        chains: [o.chain],
      });
  const input = v.inputs.find((i) => i.normalized.snapshot.underlying === u);
  if (!input) throw new Error(`no ${u} market (${v.notes.join("; ")})`);
  const { snapshot } = input.normalized;
  const model = input.surfaceSource;
  const what = `the ${u} chain (index ${snapshot.indexPrice}, chain forwards, options at their mark vols via the fitted ${model} surface pinned to the marks)`;
  const notes = [chainNote(u, input.normalized.counts, model)];
  if (v === onChain)
    notes.push(
      `book and candidates valued on the risk sections' market: ${what}; "before" is the greeks section's ${u} book`,
    );
  else
    notes.push(
      o.riskBook
        ? `book and candidates valued on ${what}, not on the book file's market section that the risk sections use (--book-market): it does not price the chain's quotes`
        : `no book could be valued (see the greeks section): empty book, candidates valued on ${what}`,
    );
  if (o.surfaceModel !== model)
    notes.push(`spec surfaceModel ${o.surfaceModel} not used: the demo's market is the ${model} fit`);
  if (v.settled.length > 0)
    notes.push(
      `${v.settled.length} book legs expired before the market's time, settled and left out: ${v.settled.map((x) => x.position.instrument.name).join(", ")}`,
    );
  if (v.excluded.length > 0)
    notes.push(
      `${v.excluded.length} book positions the market cannot value left out: ${v.excluded.map((x) => `${x.instrument} (${x.reason})`).join(", ")}`,
    );
  const built = optimizeProblemOnMarket({
    snapshot,
    market: v.market,
    positions: v.positions,
    spec: o.spec,
    filter: o.filter,
    ...(o.scenarioGrid ? { scenarioGrid: o.scenarioGrid } : {}),
    stress: o.stress,
  });
  return { problem: built.problem, notes: [...notes, ...built.notes] };
}

const pct = (v: number) => `${(v * 100).toFixed(2)}%`;

/**
 * The dashboard's rich/cheap signal of a quote. A quote without a bid cannot be sold, so it is
 * never "rich" (core's richCheapList compares its mark with the fit): it says "no bid", or
 * "cheap" when the fit is above its ask (a purchase candidate). Likewise without an ask: "no ask",
 * or "rich" when the fit is below its bid. Two-sided quotes keep the core's signal.
 */
export function quoteSignal(r: Pick<RichCheapEntry, "bidVol" | "askVol" | "fittedVol" | "signal">): string {
  if (r.bidVol !== null && r.askVol !== null) return r.signal;
  if (r.bidVol === null && r.askVol === null) return "no bid / no ask";
  if (r.bidVol === null) return r.askVol !== null && r.fittedVol > r.askVol ? "cheap" : "no bid";
  return r.fittedVol < r.bidVol ? "rich" : "no ask";
}

/** Daily price files of an underlying in ../shared/data/prices, oldest first (later ones win a date). */
export function priceHistoryFiles(underlying: string): string[] {
  const dir = resolve(REPO_ROOT, "../shared/data/prices");
  const names: Record<string, string[]> = {
    BTC: ["BTC-USD_daily.csv", "BTC-USD_daily_2024-2026.csv"],
    ETH: ["ETH-USD_daily.csv"],
  };
  return (names[underlying] ?? []).map((n) => resolve(dir, n)).filter((f) => existsSync(f));
}

/** A price history older than this many days before the valuation date is flagged stale. */
export const STALE_HISTORY_DAYS = 3;

/** The report's book section of a valued book. */
function bookSection(
  v: ValuedBook,
  o: { label: string; notes: readonly string[]; legs?: string[] },
): BookSection {
  return {
    label: o.label,
    market: v.label,
    positions: v.bookPositions,
    valued: v.positions.length,
    excluded: v.excluded.map((x) => ({
      instrument: x.instrument,
      quantity: x.quantity,
      reason: x.reason,
      detail: x.detail,
    })),
    expired: expiredRows(v),
    options: v.options.map((x) => ({
      instrument: x.name,
      forwardUsd: x.forward,
      vol: x.vol,
      source: x.source,
      ownMarkVol: x.ownMarkVol,
      ...(x.rejectedQuote
        ? { note: `chain quote rejected (${x.rejectedQuote})` }
        : x.ownMarkVol !== null && Math.abs(x.ownMarkVol - x.vol) > 5e-5
          ? { note: `own mark vol ${pct(x.ownMarkVol)}; out-of-the-money side's ${pct(x.vol)} used` }
          : {}),
    })),
    ...(o.legs ? { legs: o.legs } : {}),
    notes: [...o.notes, ...v.notes],
  };
}

/**
 * The book the risk sections value and its market (web/bookMarket.ts, the step the CLI's risk,
 * stress, margin and optimize share); fills report.book (see runDemoPipeline).
 */
function bookOnLoadedMarket(o: {
  book: PortfolioFile;
  bookLabel: string;
  placeDefault: boolean;
  bookMarket: boolean;
  chain: ChainSnapshot | undefined;
  /** The chain file's other chains, or the synthetic chains of the book's other underlyings. */
  otherChains: readonly ChainSnapshot[];
  /** Names of the synthetic chains, in needed order (main first). */
  chainLabels?: readonly string[];
  report: DemoReport;
}): ValuedBook {
  const { book } = o;
  if (o.bookMarket) {
    if (!book.market) throw new Error("book has no market section (--book-market values the book on it)");
    const v = valueBookOnBookMarket(book);
    o.report.book = bookSection(v, {
      label: o.bookLabel,
      notes: [
        "parametric surfaces of the market section: vol = atmVol + skew k + curvature k^2 + termSlope sqrt(T)",
      ],
    });
    return v;
  }
  if (!o.chain) throw new Error("no market to value the book on (see the market step)");
  const chain = o.chain;
  // Underlyings the book needs; the main chain's first, then the others in book order.
  const needed = neededUnderlyings(book.positions, [chain.underlying]);
  const chains = [
    chain,
    ...needed
      .slice(1)
      .map((u) => o.otherChains.find((x) => x.underlying === u))
      .filter((c): c is ChainSnapshot => c !== undefined),
  ];
  const built = chainMarketInputs(chains, { surfaceModel: DEFAULT_SURFACE_MODEL });
  const used = built.inputs.map((i) => i.normalized.snapshot.underlying);
  const chainOf = (u: string) => chains.find((c) => c.underlying === u) as ChainSnapshot;
  const names = o.chainLabels
    ? used.map((u) => o.chainLabels?.[needed.indexOf(u)] ?? `${u} chain`)
    : undefined;
  const label = describeChains(used.map(chainOf), names);
  const notes: string[] = [];
  let positions: readonly Position[] = book.positions;
  let cash = book.cash;
  let label0 = o.bookLabel;
  let legs: string[] | undefined;
  if (o.placeDefault) {
    const template = book.market;
    if (!template) throw new Error("the default demo book has no market section to place it by");
    const placedPositions: Position[] = [];
    const placedCash: Record<string, number> = {};
    legs = [];
    for (const input of built.inputs) {
      const placed = placeDemoBook(
        { positions: book.positions, ...(book.cash ? { cash: book.cash } : {}), market: template },
        chainOf(input.normalized.snapshot.underlying),
        input.normalized.snapshot,
      );
      placedPositions.push(...placed.positions);
      Object.assign(placedCash, placed.cash);
      legs.push(...placed.legs);
    }
    const placedOn = new Set(used);
    const leftOut = book.positions.filter((p) => !placedOn.has(p.instrument.underlying));
    if (leftOut.length > 0)
      notes.push(
        `sample legs without a loaded chain, not placed: ${leftOut.map((p) => p.instrument.name).join(", ")}`,
      );
    positions = placedPositions;
    cash = placedCash;
    label0 = `default demo book: the ${[...placedOn].join(" and ")} legs of examples/book.json placed on the loaded chain by tenor and forward moneyness, opened at its marks`;
  }
  const v = valueBookOnInputs({
    source: o.chainLabels ? "synthetic" : "chain",
    label,
    positions,
    ...(cash ? { cash } : {}),
    built,
  });
  notes.push(
    "option vols: chain-mark = the chain's mark vol at that strike and expiry (out-of-the-money side; an in-the-money option takes it by put-call parity); fitted-surface+mark-residual = strike not quoted on a listed expiry: fitted SVI vol plus the mark-minus-fit residual interpolated between the neighbouring quoted strikes; fitted-surface = expiry not listed (inside the listed range): fitted SVI vol",
  );
  if (v.settled.length > 0)
    notes.push(
      `expired legs settled at the index (delivery price unknown), left out of every figure; their value joins the cash in equity: ${v.settled.map((x) => x.detail).join("; ")}`,
    );
  o.report.book = bookSection(v, { label: label0, notes, ...(legs ? { legs } : {}) });
  if (v.positions.length === 0)
    throw new Error(
      `none of the book's ${positions.length} positions can be valued on the loaded market (${v.settled.length} expired; first exclusion: ${v.excluded[0]?.detail ?? "-"})`,
    );
  return v;
}

/** The forecast panel of the regime section, or nothing when the history is too short for it. */
function forecastSection(bars: readonly (OhlcBar & { readonly date: string })[]) {
  const forecast = forecastPanel(bars);
  return forecast ? { forecast } : {};
}
