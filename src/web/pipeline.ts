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
import { loadPortfolioFile, type PortfolioFile } from "../adapters/portfolioFile.js";
import { loadPriceHistory } from "../adapters/priceHistory.js";
import { loadStrategyFile } from "../adapters/strategyFile.js";
import { runBacktest } from "../core/backtest/engine.js";
import { drawdownSeries } from "../core/backtest/metrics.js";
import { syntheticSteps } from "../core/backtest/syntheticMarket.js";
import { standardBookMargin } from "../core/margin/book.js";
import { liquidationDistance } from "../core/margin/liquidation.js";
import { portfolioMargin } from "../core/margin/portfolioMargin.js";
import type { Position } from "../core/instruments/types.js";
import { type NormalizedChain, normalizeChain } from "../core/market/normalize.js";
import { syntheticChain } from "../core/market/synthetic.js";
import type { ChainSnapshot } from "../core/market/types.js";
import { chainNote, type OptimizeSpecCore, optimizeProblemOnMarket } from "../core/optimize/fromChain.js";
import { efficientFrontier } from "../core/optimize/frontier.js";
import { optimizePortfolio } from "../core/optimize/optimize.js";
import type { CandidateFilter, OptimizeProblem } from "../core/optimize/spec.js";
import type { OhlcBar } from "../core/regime/realizedVol.js";
import { regimeReport } from "../core/regime/report.js";
import { syntheticDailyBars } from "../core/regime/syntheticBars.js";
import { createRng } from "../core/math/rng.js";
import {
  type ChainBookValuation,
  type ChainExcludedPosition,
  type ChainMarketInput,
  chainRiskMarket,
} from "../core/risk/chainMarket.js";
import { portfolioGreeks } from "../core/risk/greeks.js";
import { compileBook, scenarioPortfolioPnl } from "../core/risk/grid.js";
import type { RiskMarket } from "../core/risk/market.js";
import { linspace, type ScenarioGridOptions, scenarioGrid } from "../core/risk/scenario.js";
import { runStress } from "../core/risk/stress.js";
import { STRESS_LIBRARY } from "../core/risk/stressLibrary.js";
import { calibrateSurfaceFromQuotes } from "../core/surface/calibrate.js";
import { surfaceTermStructure } from "../core/surface/queries.js";
import { richCheapList } from "../core/surface/richCheap.js";
import type { VolSurface } from "../core/surface/types.js";
import { volIndexFromChain } from "../core/volindex/volIndex.js";
import { placeDemoBook } from "./demoBook.js";
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
  /** Backtest length in hourly steps (default 90 days). */
  readonly backtestSteps?: number;
  /** Progress: called when a step starts and when it ends (with its time in ms and error, if any). */
  readonly onProgress?: (e: { step: string; phase: "start" | "done"; ms?: number; error?: string }) => void;
}

const iso = (t: number | null | undefined) =>
  t === null || t === undefined ? "" : new Date(t).toISOString();
const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n")[0] ?? "";

/** Seed of the extra synthetic chain of the book's n-th other underlying (n >= 1). */
const extraSeed = (seed: number, n: number) => seed + n;
/** Offset of the synthetic price history's seed from the demo seed (no real history file). */
const HISTORY_SEED_OFFSET = 7;

/**
 * Runs every demo step and returns the report. Never throws because one area failed.
 *
 * Risk, stress and margin value the book on the loaded market: a RiskMarket built from the chain
 * (core/risk/chainMarket.ts: chain index and forwards, options at their chain mark vols, the
 * fitted surface where the chain has no mark). Positions that market cannot value (other
 * underlying, expired, outside the listed expiries) are listed in report.book.excluded and left
 * out of every figure. On the synthetic market, the book's other underlyings (ETH in the sample
 * book) get their own seeded synthetic chain at the same instant. Without `bookFile`, on a chain
 * file or a live chain, the sample book is placed on the loaded chain (web/demoBook.ts).
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
    if (f.rejected.length > 0)
      throw new Error(`${f.rejected.length} bad book rows (first: ${f.rejected[0]?.reason})`);
    if (o.bookMarket && !f.market)
      throw new Error("book has no market section (--book-market values the book on it)");
    return f;
  });
  const valuationTime = book?.market?.valuationTime ?? Date.UTC(2026, 1, 2, 8);
  report.valuationTime = iso(valuationTime);

  let otherChains: ChainSnapshot[] = [];
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
      const spot = book?.market?.underlyings.BTC?.indexPrice ?? 100000;
      return syntheticChain({ underlying: "BTC", valuationTime, seed, spot, markNoise: 0.002 });
    },
  );
  if (chain) report.valuationTime = iso(chain.valuationTime);

  let loaded: { normalized: NormalizedChain; fitted: VolSurface } | undefined;
  await step("surface fit", ["surface"], () => {
    if (!chain) throw new Error("no market");
    const norm = normalizeChain(chain);
    const res = calibrateSurfaceFromQuotes(norm.snapshot.quotes, { model: "svi" });
    if (!res.fit.ok) throw new Error(`${res.fit.reason}: ${res.fit.message}`);
    const f = res.fit.value;
    loaded = { normalized: norm, fitted: f.surface };
    const term = surfaceTermStructure(f.surface);
    // 3D view: expiries of a week or more (shorter smiles are too steep to share one k axis).
    const gridSlices = f.slices.filter((s) => s.expiry >= 7 / 365);
    const kGrid = linspace(-0.4, 0.3, 36);
    report.surface = {
      underlying: chain.underlying,
      model: f.model,
      expiries: f.slices.map((s, i) => {
        const quotes = f.data[i]?.quotes ?? [];
        const ks = quotes.map((q) => q.k);
        const lo = Math.min(...ks);
        const hi = Math.max(...ks);
        return {
          expiry: iso(s.expiryTime),
          timeToExpiry: s.expiry,
          forwardUsd: s.forward,
          points: quotes.map((q) => ({ k: q.k, bidVol: q.bidVol, askVol: q.askVol, midVol: q.targetVol })),
          fit: linspace(lo, hi, 41).map((k) => ({ k, vol: f.surface.impliedVol(k, s.expiry) })),
          atmVol: s.atmVol,
          rmseVolPts: s.rmseVolPts,
        };
      }),
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
          targetVol: r.targetVol,
          fittedVol: r.fittedVol,
          signal: r.signal,
        })),
      grid: {
        k: kGrid,
        timeToExpiry: gridSlices.map((s) => s.expiry),
        vol: gridSlices.map((s) => kGrid.map((k) => f.surface.impliedVol(k, s.expiry))),
      },
    };
  });

  const synthetic = !o.chain && !o.chainFile;
  const riskBook = book
    ? await step("risk market", ["greeks", "scenarios", "stress", "margin"], () =>
        bookOnMarket({
          book,
          bookLabel: o.bookFile ? `book file ${o.bookFile}` : "examples/book.json",
          placeDefault: !o.bookFile && !synthetic,
          bookMarket: o.bookMarket === true,
          chain,
          loaded,
          otherChains,
          synthetic,
          seed,
          report,
        }),
      )
    : undefined;

  if (riskBook) {
    const book = riskBook;
    await step("greeks", ["greeks"], () => {
      const g = portfolioGreeks(book.positions, book.market);
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
      report.greeks = { rows, totalUsd: { ...g.totalUsd } };
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
      const std = standardBookMargin(book.positions, book.market);
      const pm = portfolioMargin(book.positions, book.market);
      const price = (cur: string) =>
        cur === "USDC" || cur === "USD" ? 1 : (book.market.underlyings[cur]?.indexPrice ?? Number.NaN);
      let cashUsd = 0;
      const unpriced: string[] = [];
      for (const [cur, amt] of Object.entries(book.cash ?? {}))
        if (Number.isFinite(price(cur))) cashUsd += amt * price(cur);
        else unpriced.push(`${amt} ${cur}`);
      if (unpriced.length > 0)
        report.book?.notes.push(
          `cash ${unpriced.join(", ")} left out of equity: no index for it in the loaded market`,
        );
      const equityUsd = cashUsd + portfolioGreeks(book.positions, book.market).totalUsd.valueUsd;
      let maintenanceUsd = 0;
      for (const [cur, m] of Object.entries(pm.byCurrency)) maintenanceUsd += m.maintenance * price(cur);
      const liq = liquidationDistance({
        positions: book.positions,
        market: book.market,
        equityUsd,
        maintenanceUsd,
      });
      report.margin = {
        byCurrency: Object.entries(std.byCurrency).map(([currency, m]) => ({
          currency,
          initial: m.initial,
          maintenance: m.maintenance,
        })),
        equityUsd,
        maintenanceUsd,
        liquidation: { ...liq },
      };
    });
  }

  let optimizeProblem: OptimizeProblem | undefined;
  await step("optimizer", ["optimizer"], async () => {
    if (!chain || !loaded) throw new Error("no fitted market (see the surface section)");
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
      loaded,
      riskBook,
      bookMarket: o.bookMarket === true,
      spec,
      filter,
      ...(specF.scenarios ? { scenarioGrid: specF.scenarios } : {}),
      stress: specF.stress,
      surfaceModel: specF.surfaceModel,
    });
    optimizeProblem = built.problem;
    const r = await optimizePortfolio(built.problem);
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
  if (opt && optimizeProblem && opt.status === "optimal") {
    const problem = optimizeProblem;
    let why = "the CVaR range could not be bracketed";
    const fr = await step("frontier", [], async () => {
      try {
        return await efficientFrontier(problem, { points: o.frontierPoints ?? 7 });
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
    const strategy = await loadStrategyFile(strategyFile);
    const r = runBacktest({
      strategy,
      steps: syntheticSteps({ steps: o.backtestSteps ?? 90 * 24, seed, spot: 100000 }),
      recordTrades: false,
    });
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
      "tradingUsd",
    ] as const;
    report.backtest = {
      strategy: r.strategy,
      dates: r.daily.map((d) => iso(d.time)),
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
    const v = volIndexFromChain(chain);
    report.volIndex = {
      underlying: v.underlying,
      index: v.index,
      term: v.expiries.map((e) => ({ expiry: iso(e.expiry), vol: e.vol })),
    };
  });

  await step("regime", ["regime"], async () => {
    // The real BTC history when it is there (../shared/data or --prices); on a fresh machine a
    // seeded synthetic history with calm/stressed vol regimes, labelled as such.
    let bars: readonly (OhlcBar & { date: string })[];
    let source: string;
    if (existsSync(priceFile)) {
      bars = (await loadPriceHistory(priceFile)).bars;
      source = `${priceFile.split("/").pop()} (${bars.length} days)`;
    } else {
      const days = 1000;
      bars = syntheticDailyBars(
        { days, start: valuationTime - days * DAY_MS, spot: 100_000 },
        createRng(HISTORY_SEED_OFFSET + seed),
      ).bars;
      source = `synthetic BTC history with calm/stressed vol regimes (seed ${HISTORY_SEED_OFFSET + seed}; no ${priceFile})`;
    }
    const r = regimeReport(bars, {
      lookback: 720,
      ...(report.volIndex ? { impliedVol: report.volIndex.index / 100 } : {}),
    });
    report.regime = {
      source,
      dates: r.series.map((s) => s.date),
      realizedVol: r.series.map((s) => s.realizedVol),
      garchVol: r.series.map((s) => s.garchVol),
      highVolProbability: r.series.map((s) => s.highVolProbability),
    };
  });
  report.unavailable.agent =
    'no agent connected: start `volfolio agent` with "http": {"port": 8788} in its config, then pass --agent-url http://127.0.0.1:8788';
  return report;
}

/**
 * The demo optimizer's problem, valued on the risk sections' market: the book and every candidate
 * go through the same RiskMarket as the greeks, scenario, stress and margin sections
 * (core/risk/chainMarket.ts: chain index and forwards, options at their chain mark vols via the
 * fitted surface pinned to the marks), so the optimizer's "before" greeks are the greeks
 * section's figures of the chain's underlying and "after" is the book plus the chosen trades on
 * that same market. A candidate's fair value is then Black-76 at its mark vol (its chain mark),
 * so trading costs are measured from the mark. Positions the market cannot value are left out
 * as in the book section; positions on other underlyings are left out (the candidates are one
 * chain's quotes). Both are named in the notes. With --book-market the risk sections use the
 * book file's own market, which does not price the chain's quotes: book and candidates are then
 * valued on the loaded chain's market (chainRiskMarket) and the notes say so.
 */
function optimizerOnRiskMarket(o: {
  loaded: ChainMarketInput;
  riskBook: RiskBook | undefined;
  bookMarket: boolean;
  spec: OptimizeSpecCore;
  filter: CandidateFilter;
  scenarioGrid?: ScenarioGridOptions;
  stress: boolean;
  surfaceModel: string;
}): { problem: OptimizeProblem; notes: string[] } {
  const { snapshot } = o.loaded.normalized;
  const u = snapshot.underlying;
  const model = o.loaded.fitted.model;
  const what = `the ${u} chain (index ${snapshot.indexPrice}, chain forwards, options at their mark vols via the fitted ${model} surface pinned to the marks)`;
  const notes = [chainNote(u, o.loaded.normalized.counts, model)];
  let market: RiskMarket;
  let valued: readonly Position[];
  let excluded: readonly ChainExcludedPosition[];
  if (o.riskBook && !o.bookMarket) {
    ({ market, positions: valued, excluded } = o.riskBook);
    notes.push(
      `book and candidates valued on the risk sections' market: ${what}; "before" is the greeks section's ${u} book`,
    );
  } else {
    const v = chainRiskMarket([o.loaded], o.riskBook?.positions ?? []);
    ({ market, accepted: valued, excluded } = v);
    notes.push(
      o.riskBook
        ? `book and candidates valued on ${what}, not on the book file's market section that the risk sections use (--book-market): it does not price the chain's quotes`
        : `no book could be valued (see the greeks section): empty book, candidates valued on ${what}`,
    );
  }
  if (o.surfaceModel !== model)
    notes.push(`spec surfaceModel ${o.surfaceModel} not used: the demo's market is the ${model} fit`);
  if (excluded.length > 0)
    notes.push(
      `${excluded.length} book positions the market cannot value left out: ${excluded.map((x) => `${x.position.instrument.name} (${x.reason})`).join(", ")}`,
    );
  const built = optimizeProblemOnMarket({
    snapshot,
    market,
    positions: valued,
    spec: o.spec,
    filter: o.filter,
    ...(o.scenarioGrid ? { scenarioGrid: o.scenarioGrid } : {}),
    stress: o.stress,
  });
  return { problem: built.problem, notes: [...notes, ...built.notes] };
}

interface RiskBook {
  readonly positions: readonly Position[];
  readonly market: RiskMarket;
  /** Book positions the market cannot value (left out of every figure); [] on --book-market. */
  readonly excluded: readonly ChainExcludedPosition[];
  readonly cash?: Readonly<Record<string, number>>;
}

const pct = (v: number) => `${(v * 100).toFixed(2)}%`;

/** The book the risk sections value and its market; fills report.book (see runDemoPipeline). */
function bookOnMarket(o: {
  book: PortfolioFile;
  bookLabel: string;
  placeDefault: boolean;
  bookMarket: boolean;
  chain: ChainSnapshot | undefined;
  loaded: ChainMarketInput | undefined;
  /** Other chains of the chain file (not used on the synthetic market). */
  otherChains: readonly ChainSnapshot[];
  synthetic: boolean;
  seed: number;
  report: DemoReport;
}): RiskBook {
  const { book } = o;
  const notes: string[] = [];
  if (o.bookMarket) {
    if (!book.market) throw new Error("book has no market section (--book-market values the book on it)");
    o.report.book = {
      label: o.bookLabel,
      market: `the book file's own market section (--book-market), valuation ${iso(book.market.valuationTime)}; not the loaded chain`,
      positions: book.positions.length,
      valued: book.positions.length,
      excluded: [],
      options: [],
      notes: [
        "parametric surfaces of the market section: vol = atmVol + skew k + curvature k^2 + termSlope sqrt(T)",
      ],
    };
    return {
      positions: book.positions,
      market: book.market,
      excluded: [],
      ...(book.cash ? { cash: book.cash } : {}),
    };
  }
  if (!o.chain || !o.loaded)
    throw new Error("no fitted market to value the book on (see the surface section)");
  const chain = o.chain;
  // Underlyings the book needs; the main chain's first, then the others in book order.
  const needed = [...new Set([chain.underlying, ...book.positions.map((p) => p.instrument.underlying)])];
  const inputs: ChainMarketInput[] = [o.loaded];
  const chains: ChainSnapshot[] = [chain];
  let market = `${chain.underlying} chain at ${iso(chain.valuationTime)} (index ${chain.indexPrice})`;
  needed.slice(1).forEach((u, i) => {
    // Other underlyings: the chain file's chain of that coin, or on the synthetic market a
    // seeded synthetic chain at the same instant (index from the book's market section if any).
    const spot = book.market?.underlyings[u]?.indexPrice;
    const c = o.synthetic
      ? syntheticChain({
          underlying: u,
          valuationTime: chain.valuationTime,
          seed: extraSeed(o.seed, i + 1),
          ...(spot ? { spot } : {}),
          markNoise: 0.002,
        })
      : o.otherChains.find((x) => x.underlying === u);
    if (!c) return;
    const what = o.synthetic ? `synthetic ${u} chain (seed ${extraSeed(o.seed, i + 1)})` : `${u} chain`;
    if (c.valuationTime !== chain.valuationTime) {
      notes.push(
        `${what} left out: its time ${iso(c.valuationTime)} differs from the ${chain.underlying} chain's`,
      );
      return;
    }
    const normalized = normalizeChain(c);
    const fit = calibrateSurfaceFromQuotes(normalized.snapshot.quotes, { model: "svi" });
    if (!fit.fit.ok) {
      notes.push(`${what} left out: surface fit failed (${fit.fit.message})`);
      return;
    }
    inputs.push({ normalized, fitted: fit.fit.value.surface });
    chains.push(c);
    market += `, ${what} (index ${c.indexPrice})`;
  });
  let positions: readonly Position[] = book.positions;
  let cash = book.cash;
  let label = o.bookLabel;
  let legs: string[] | undefined;
  if (o.placeDefault) {
    const template = book.market;
    if (!template) throw new Error("the default demo book has no market section to place it by");
    const placedPositions: Position[] = [];
    const placedCash: Record<string, number> = {};
    legs = [];
    chains.forEach((c, i) => {
      const placed = placeDemoBook(
        { positions: book.positions, ...(book.cash ? { cash: book.cash } : {}), market: template },
        c,
        (inputs[i] as ChainMarketInput).normalized.snapshot,
      );
      placedPositions.push(...placed.positions);
      Object.assign(placedCash, placed.cash);
      legs?.push(...placed.legs);
    });
    const placedOn = new Set(chains.map((c) => c.underlying));
    const leftOut = book.positions.filter((p) => !placedOn.has(p.instrument.underlying));
    if (leftOut.length > 0)
      notes.push(
        `sample legs without a loaded chain, not placed: ${leftOut.map((p) => p.instrument.name).join(", ")}`,
      );
    positions = placedPositions;
    cash = placedCash;
    label = `default demo book: the ${[...placedOn].join(" and ")} legs of examples/book.json placed on the loaded chain by tenor and forward moneyness, opened at its marks`;
  }
  const v: ChainBookValuation = chainRiskMarket(inputs, positions);
  notes.push(
    "option vols: chain-mark = the chain's mark vol at that strike and expiry (out-of-the-money side; an in-the-money option takes it by put-call parity); fitted-surface+mark-residual = strike not quoted on a listed expiry: fitted SVI vol plus the mark-minus-fit residual interpolated between the neighbouring quoted strikes; fitted-surface = expiry not listed (inside the listed range): fitted SVI vol",
  );
  const section: BookSection = {
    label,
    market,
    positions: positions.length,
    valued: v.accepted.length,
    excluded: v.excluded.map((x) => ({
      instrument: x.position.instrument.name,
      quantity: x.position.quantity,
      reason: x.reason,
      detail: x.detail,
    })),
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
    ...(legs ? { legs } : {}),
    notes,
  };
  o.report.book = section;
  if (v.accepted.length === 0)
    throw new Error(
      `none of the book's ${positions.length} positions can be valued on the loaded market (first: ${v.excluded[0]?.detail ?? "-"})`,
    );
  return { positions: v.accepted, market: v.market, excluded: v.excluded, ...(cash ? { cash } : {}) };
}
