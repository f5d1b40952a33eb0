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
import { loadStrategyFile } from "../adapters/strategyFile.js";
import type { Position } from "../core/instruments/types.js";
import type { ChainSnapshot } from "../core/market/types.js";
import { loadLpSolver } from "../core/optimize/lpSolver.js";
import { describeChains, neededUnderlyings, syntheticChainsFor, type ValuedBook } from "./bookMarket.js";
import type { ForecastPanelOptions } from "./forecastPanel.js";
import { dvolFileFor, loadHistorySection } from "./history.js";
import type { DemoReport, ReportSection } from "./report.js";
import { chainHistoryMarket, syntheticBacktestMarket, backtestSection } from "./sections/backtest.js";
import { bookOnLoadedMarket } from "./sections/book.js";
import { greeksSection, marginSection, scenarioSection, stressSection } from "./sections/bookRisk.js";
import { frontierSection, optimizerOnRiskMarket, optimizerSection } from "./sections/optimizer.js";
import {
  priceFileHistory,
  type RegimeHistory,
  regimeSection,
  staleRegimeSection,
  syntheticHistory,
  volIndexSection,
} from "./sections/regime.js";
import { surfaceSection } from "./sections/surface.js";
import { firstLine, iso } from "./sections/util.js";

export { quoteSignal } from "./sections/surface.js";
export { STALE_HISTORY_DAYS } from "./sections/regime.js";

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
  /**
   * The regime section's forecast panel (web/forecastPanel.ts): false leaves it out, options pick
   * a shorter window or fewer trees (tests); default the product's panel.
   */
  readonly forecast?: ForecastPanelOptions | false;
  /** Progress: called when a step starts and when it ends (with its time in ms and error, if any). */
  readonly onProgress?: (e: { step: string; phase: "start" | "done"; ms?: number; error?: string }) => void;
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

/** Sections the book feeds: absent with the reason when loading or valuing it fails. */
const BOOK_SECTIONS: ReportSection[] = ["greeks", "scenarios", "stress", "margin"];

/** Runs one step: its time in the report, and on failure its sections marked unavailable with the reason. */
type Step = <T>(name: string, sections: ReportSection[], fn: () => Promise<T> | T) => Promise<T | undefined>;

function stepRunner(report: DemoReport, o: PipelineOptions): Step {
  return async (name, sections, fn) => {
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
}

/** The report before any step: what it is of, no section yet. */
function emptyReport(o: PipelineOptions, seed: number): DemoReport {
  return {
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
}

/** The book file (default examples/book.json), checked clean. */
async function loadDemoBook(o: PipelineOptions): Promise<PortfolioFile> {
  const bookFile = o.bookFile ?? resolve(REPO_ROOT, "examples/book.json");
  const f = await loadPortfolioFile(bookFile);
  assertCleanBook(f, bookFile);
  if (o.bookMarket && !f.market)
    throw new Error("book has no market section (--book-market values the book on it)");
  return f;
}

/**
 * The market: the main chain (surface, optimizer, vol index) and the chains the book's other
 * underlyings are valued on (a chain file's, or seeded synthetic ones: web/bookMarket.ts).
 */
interface DemoMarket {
  readonly chain: ChainSnapshot;
  readonly otherChains: ChainSnapshot[];
  /** Names of the synthetic chains, in needed order (main first). */
  readonly chainLabels?: string[];
}

async function loadMarket(
  o: PipelineOptions,
  seed: number,
  valuationTime: number,
  book: PortfolioFile | undefined,
): Promise<DemoMarket> {
  if (o.chain) return { chain: o.chain, otherChains: [] };
  if (o.chainFile) {
    const r = await loadChainFile(o.chainFile);
    const c = r.chains.find((x) => x.underlying === "BTC") ?? r.chains[0];
    if (!c) throw new Error(`no option chain in ${o.chainFile}`);
    return { chain: c, otherChains: r.chains.filter((x) => x !== c) };
  }
  const needed = neededUnderlyings(book?.positions ?? [], ["BTC"]);
  const s = syntheticChainsFor(needed, { seed, valuationTime, ...(book ? { book } : {}) });
  const [chain, ...otherChains] = s.chains;
  if (!chain) throw new Error("no synthetic chain");
  return { chain, otherChains, chainLabels: needed.map((u, n) => `synthetic ${u} chain (seed ${seed + n})`) };
}

/** Hands the loaded market and the valued book to the builder (onMarket); its failure marks the builder. */
function notifyMarket(
  o: PipelineOptions,
  report: DemoReport,
  m: DemoMarket,
  riskBook: ValuedBook | undefined,
) {
  try {
    const chainsFor = [m.chain, ...m.otherChains];
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
}

/** Greeks, scenario grid, stress and margin of the valued book. */
async function bookRiskSteps(step: Step, report: DemoReport, book: ValuedBook): Promise<void> {
  await step("greeks", ["greeks"], () => {
    report.greeks = greeksSection(book);
  });
  await step("scenario grid", ["scenarios"], () => {
    report.scenarios = scenarioSection(book);
  });
  await step("stress", ["stress"], () => {
    report.stress = stressSection(book);
  });
  await step("margin", ["margin"], () => {
    const m = marginSection(book);
    report.book?.notes.push(...m.bookNotes);
    report.margin = m.section;
  });
}

/**
 * The optimizer's proposal (the demo's default spec with a 400k margin budget: the sample book
 * alone uses about 255k USD of the linear margin proxy, above the example spec's 250k budget, so a
 * proposal can exist) and its efficient frontier; a frontier failure leaves the proposal in place
 * and says why in the frontier's place.
 */
async function optimizerSteps(
  step: Step,
  report: DemoReport,
  o: PipelineOptions,
  m: { chain: ChainSnapshot | undefined; riskBook: ValuedBook | undefined; positions: readonly Position[] },
): Promise<void> {
  const solved = await step("optimizer", ["optimizer"], async () => {
    if (!m.chain) throw new Error("no market (see the market step)");
    const specF = await loadOptimizeSpecFile(o.specFile ?? resolve(REPO_ROOT, "examples/optimize-spec.json"));
    const parts = optimizeSpecParts(specF);
    const spec = o.specFile
      ? parts.spec
      : {
          ...parts.spec,
          constraints: { ...parts.spec.constraints, marginBudgetUsd: DEMO_MARGIN_BUDGET_USD },
        };
    const built = optimizerOnRiskMarket({
      chain: m.chain,
      riskBook: m.riskBook,
      positions: m.positions,
      spec,
      filter: parts.filter,
      ...(specF.scenarios ? { scenarioGrid: specF.scenarios } : {}),
      stress: specF.stress,
      surfaceModel: specF.surfaceModel,
    });
    const solver = await loadLpSolver();
    report.optimizer = optimizerSection(built.problem, solver, built.notes);
    return { problem: built.problem, solver };
  });
  const opt = report.optimizer;
  if (!opt || !solved || opt.status !== "optimal") return;
  let why = "the CVaR range could not be bracketed";
  const fr = await step("frontier", [], () => {
    try {
      return frontierSection(solved.problem, solved.solver, o.frontierPoints ?? 7);
    } catch (e) {
      why = firstLine(e);
      throw e;
    }
  });
  if (fr) opt.frontier = fr;
  else opt.notes.push(`frontier not available: ${why}`);
}

/** The example strategy's backtest on the chain history (--data) or a synthetic market ending at the valuation time. */
async function backtestStep(
  o: PipelineOptions,
  report: DemoReport,
  chain: ChainSnapshot | undefined,
  seed: number,
) {
  if (!chain) throw new Error("no market (see the market step)");
  const strategy = await loadStrategyFile(
    o.strategyFile ?? resolve(REPO_ROOT, "examples/strategies/short-strangle-hedged.json"),
  );
  const market = o.backtestDataDir
    ? await chainHistoryMarket(chain, o.backtestDataDir)
    : syntheticBacktestMarket(chain, {
        steps: o.backtestSteps ?? 90 * 24,
        seed,
        atm: report.surface?.term.find((x) => x.timeToExpiry >= 30 / 365)?.atmVol ?? 0.5,
      });
  report.backtest = backtestSection(strategy, market);
}

/**
 * The regime section on the real daily history of the underlying when it is there
 * (../shared/data or --prices), else on a seeded synthetic history with calm/stressed regimes.
 */
async function regimeStep(
  o: PipelineOptions,
  report: DemoReport,
  m: { chain: ChainSnapshot | undefined; seed: number; valuationTime: number },
) {
  const { chain, seed } = m;
  const u = chain?.underlying ?? "BTC";
  const priceFile = o.priceHistoryFile ?? resolve(REPO_ROOT, "../shared/data/prices/BTC-USD_daily.csv");
  const files = o.priceHistoryFile ? [priceFile].filter((f) => existsSync(f)) : priceHistoryFiles(u);
  const h: RegimeHistory =
    files.length > 0
      ? await priceFileHistory(files, report.valuationTime.slice(0, 10))
      : syntheticHistory({
          valuationTime: m.valuationTime,
          seed,
          missing: o.priceHistoryFile ?? `price history of ${u} in ../shared/data/prices`,
        });
  const stale = staleRegimeSection(h);
  if (stale) report.regime = stale;
  report.regime = regimeSection(h, {
    impliedVol: report.volIndex ? report.volIndex.index / 100 : undefined,
    forecast: o.forecast,
  });
}

/** The History tab's section (web/history.ts) from the daily chain files of `dir`. */
async function historyStep(o: PipelineOptions, dir: string, chain: ChainSnapshot | undefined) {
  const u = chain?.underlying ?? "BTC";
  const dvol = dvolFileFor(REPO_ROOT, u);
  return loadHistorySection({
    dir,
    underlying: u,
    ...(o.historyMaxDays !== undefined ? { maxDays: o.historyMaxDays } : {}),
    priceFiles: priceHistoryFiles(u),
    ...(dvol ? { dvolFile: dvol } : {}),
    ...(o.onHistoryFile ? { onFile: o.onHistoryFile } : {}),
  });
}

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
 * `bookMarket` values the book on its own market section instead. Each section is built by a
 * function of web/sections/ from its inputs; this function only orders the steps.
 */
export async function runDemoPipeline(o: PipelineOptions = {}): Promise<DemoReport> {
  const seed = o.seed ?? 42;
  const report = emptyReport(o, seed);
  const step = stepRunner(report, o);
  const book = await step("load book", BOOK_SECTIONS, () => loadDemoBook(o));
  const valuationTime = book?.market?.valuationTime ?? Date.UTC(2026, 1, 2, 8);
  report.valuationTime = iso(valuationTime);
  const market = await step("market", ["surface", "optimizer", "volIndex"], () =>
    loadMarket(o, seed, valuationTime, book),
  );
  const chain = market?.chain;
  if (chain) report.valuationTime = iso(chain.valuationTime);
  await step("surface fit", ["surface"], () => {
    if (!chain) throw new Error("no market");
    report.surface = surfaceSection(chain);
  });
  const riskBook = book
    ? await step("risk market", BOOK_SECTIONS, () => {
        const r = bookOnLoadedMarket({
          book,
          bookLabel: o.bookFile ? `book file ${o.bookFile}` : "examples/book.json",
          placeDefault: !o.bookFile && !(!o.chain && !o.chainFile),
          bookMarket: o.bookMarket === true,
          chain,
          otherChains: market?.otherChains ?? [],
          chainLabels: market?.chainLabels,
        });
        report.book = r.section;
        if (r.error) throw new Error(r.error);
        return r.valued;
      })
    : undefined;
  if (market) notifyMarket(o, report, market, riskBook);
  if (riskBook) await bookRiskSteps(step, report, riskBook);
  await optimizerSteps(step, report, o, { chain, riskBook, positions: book?.positions ?? [] });
  await step("backtest", ["backtest"], () => backtestStep(o, report, chain, seed));
  await step("vol index", ["volIndex"], () => {
    if (!chain) throw new Error("no market");
    report.volIndex = volIndexSection(chain);
  });
  await step("regime", ["regime"], () => regimeStep(o, report, { chain, seed, valuationTime }));
  const historyDir = o.historyDir;
  if (historyDir) {
    await step("history", ["history"], async () => {
      report.history = await historyStep(o, historyDir, chain);
    });
  } else
    report.unavailable.history =
      "no history given: run with --history ../shared/data/deribit/daily (the daily chain files)";
  report.unavailable.agent =
    'no agent connected: start `volfolio agent` with "http": {"port": 8788} in its config, then pass --agent-url http://127.0.0.1:8788';
  return report;
}
