/**
 * `volfolio optimize --spec FILE [--book FILE] <market> [--json] [--frontier N]`:
 * book + spec on ONE market -> proposed trades (HiGHS), risk before/after, binding constraints,
 * a plain-language role per trade, and optionally the CVaR efficient frontier as data.
 *
 * The market is the one `volfolio risk | stress | margin` and the demo value the book on
 * (src/cli/bookMarket.ts flags, src/web/bookMarket.ts valuation): --chain FILE | --live |
 * --synthetic (not --book-market: the candidates are a chain's quotes). So "before" is the book
 * `volfolio risk` reports on the same chain: deltaCoin here is dV_usd/dS in coins (risk's
 * deltaUnderlyingCoin / deltaBlackCoin, Black's forward delta), NOT risk's premium-adjusted
 * deltaCoin; --json adds the explicit alias deltaBlackCoin and a `units` object.
 * Legs expired at the chain's time are settled (listed in `expired`) and never reach the
 * optimizer; when that leaves the book on the spec's underlying partly or wholly empty the command
 * warns loudly (stderr and `warnings` in the JSON).
 */
import type { Command } from "commander";
import { InputFileError } from "../../adapters/inputFile.js";
import {
  loadOptimizeSpecFile,
  type OptimizeSpecFile,
  optimizeSpecParts,
} from "../../adapters/optimizeSpec.js";
import type { PortfolioFile } from "../../adapters/portfolioFile.js";
import { efficientFrontier, type FrontierResult } from "../../core/optimize/frontier.js";
import { optimizeProblemOnMarket } from "../../core/optimize/fromChain.js";
import { loadLpSolver } from "../../core/optimize/lpSolver.js";
import { type OptimizeResult, optimizePortfolio } from "../../core/optimize/optimize.js";
import type { OptimizeRiskSummary } from "../../core/optimize/verify.js";
import { DEFAULT_SURFACE_MODEL } from "../../core/surface/calibrate.js";
import {
  bookGreeks,
  bookHeader,
  bookWarnings,
  expiredRows,
  GREEK_TABLE_COLUMNS,
  GREEK_TABLE_TITLE,
  GREEK_UNITS,
  marketJson,
  type ValuedBook,
} from "../../web/bookMarket.js";
import {
  addMarketOptions,
  bookOnMarket,
  loadBookFile,
  type MarketFlags,
  parseMarketFlags,
  printWarnings,
} from "../bookMarket.js";
import { CliError, EXIT_FAILURE, EXIT_USAGE, formatTable, output, parseNumberOption } from "../io.js";
import { parseDeribitExpiry } from "../../core/instruments/names.js";

interface Flags extends MarketFlags {
  book?: string;
  spec: string;
  frontier?: string;
  json?: boolean;
  withVarswap?: string;
  variance?: string;
  withDvolFuture?: string;
  dvolHalfSpread?: string;
}

/** --with-dvol-future "27MAR26" or "2026-03-27" (08:00 UTC, Deribit's expiry hour), comma-separated. */
function parseDvolExpiries(s: string): number[] {
  return s.split(",").map((x) => {
    const code = x.trim().toUpperCase();
    const iso = /^\d{4}-\d{2}-\d{2}$/.test(code) ? Date.parse(`${code}T08:00:00Z`) : Number.NaN;
    const t = parseDeribitExpiry(code) ?? (Number.isFinite(iso) ? iso : null);
    if (t === null)
      throw new CliError(`--with-dvol-future: "${x}" is not an expiry (27MAR26 or 2026-03-27)`, EXIT_USAGE);
    return t;
  });
}

/** --with-varswap "30d" or "30,60d": variance-swap basket tenors in days. */
function parseTenors(s: string): number[] {
  return s.split(",").map((x) => {
    const d = Number(x.trim().replace(/d$/i, ""));
    if (!(d > 0 && Number.isFinite(d)))
      throw new CliError(`--with-varswap: "${x}" is not a tenor in days (e.g. 30d)`, EXIT_USAGE);
    return d;
  });
}

/** --variance MIN[:MAX] (USD per variance point): the band on the variance notional; one number = equality. */
function parseVarianceBand(s: string): { min?: number; max?: number } {
  const [lo, hi] = s.split(":");
  const num = (x: string | undefined) =>
    x === undefined || x === "" ? undefined : parseNumberOption("--variance", x);
  const min = num(lo);
  const max = s.includes(":") ? num(hi) : min;
  return { ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) };
}

const r6 = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(6)) : null);

function riskRow(label: string, s: OptimizeRiskSummary, withVariance = false) {
  return {
    book: label,
    deltaBlackCoin: s.greeks.deltaCoin,
    cashGammaUsd: s.greeks.cashGammaUsd,
    vegaUsdPerVolPt: s.greeks.vegaUsdPerVolPt,
    thetaUsdPerDay: s.greeks.thetaUsdPerDay,
    ...(withVariance ? { varianceUsdPerPt: s.varianceUsdPerPt } : {}),
    [`cvar${Math.round(s.alpha * 100)}Usd`]: s.cvarUsd,
    worstStressUsd: s.worstStressLossUsd,
    stdMarginUsd: s.marginUsd,
    pmMarginUsd: s.portfolioMarginUsd ?? null,
  };
}

/** A risk summary for --json: the core fields unchanged, plus deltaBlackCoin (= greeks.deltaCoin). */
function summaryJson(s: OptimizeRiskSummary) {
  return { ...s, greeks: { ...s.greeks, deltaBlackCoin: s.greeks.deltaCoin } };
}

/** Loud lines when expiry or exclusions leave the optimizer a smaller book than the file's. */
function optimizeWarnings(v: ValuedBook, underlying: string, bookPositions: number): string[] {
  const out = bookWarnings(v).filter((w) => !w.startsWith("no live position"));
  if (bookPositions === 0) return out;
  const live = v.positions.filter((p) => p.instrument.underlying === underlying).length;
  const gone = [
    ...v.settled.map((s) => s.position.instrument),
    ...v.excluded.map((x) => ({ name: x.instrument, underlying: x.underlying })),
  ].filter((i) => i.underlying === underlying);
  if (gone.length > 0)
    out.push(
      live === 0
        ? `the optimizer sees an EMPTY ${underlying} book: every ${underlying} leg of the book file expired or cannot be valued on this market (${gone.map((i) => i.name).join(", ")}); "before" is not your book. Use a market at which the book is live (e.g. --time before its expiries)`
        : `the optimizer's ${underlying} book lacks ${gone.length} leg(s) of the book file (${gone.map((i) => i.name).join(", ")}): "before" is the remaining ${live} live leg(s)`,
    );
  return out;
}

/** The spec file; a spec that fails validation is a usage error (exit 2) naming the field. */
async function loadSpec(file: string): Promise<OptimizeSpecFile> {
  return loadOptimizeSpecFile(file).catch((e: unknown) => {
    if (e instanceof InputFileError) throw e; // missing or unreadable file: exit 3
    throw new CliError(e instanceof Error ? e.message : String(e), EXIT_USAGE);
  });
}

/** The book valued on the chosen market and the spec underlying's optimize problem on it. */
async function problemOnMarket(f: Flags, specFile: OptimizeSpecFile) {
  const choice = parseMarketFlags(f, { command: "optimize", allowBookMarket: false });
  const parts = optimizeSpecParts(specFile);
  const { filter } = parts;
  const band = f.variance !== undefined ? parseVarianceBand(f.variance) : null;
  const spec = band
    ? { ...parts.spec, constraints: { ...parts.spec.constraints, variance: band } }
    : parts.spec;
  const tenors = f.withVarswap !== undefined ? parseTenors(f.withVarswap) : [];
  const halfSpread =
    f.dvolHalfSpread !== undefined ? parseNumberOption("--dvol-half-spread", f.dvolHalfSpread) : undefined;
  const futures = (f.withDvolFuture !== undefined ? parseDvolExpiries(f.withDvolFuture) : []).map(
    (expiry) => ({
      expiry,
      ...(halfSpread !== undefined ? { halfSpreadPoints: halfSpread } : {}),
    }),
  );
  const u = specFile.underlying;
  const book: PortfolioFile = f.book
    ? await loadBookFile(f.book)
    : { positions: [], rejected: [], rowsRead: 0 };
  const v = await bookOnMarket(book, choice, {
    first: [u],
    surfaceModel: specFile.surfaceModel,
    log: (line) => process.stderr.write(`[optimize] ${line}\n`),
  });
  const input = v.inputs.find((i) => i.normalized.snapshot.underlying === u);
  if (!input)
    throw new CliError(
      `no ${u} chain in the market (${v.label}): the spec's candidates are ${u} quotes`,
      EXIT_FAILURE,
    );
  const warnings = optimizeWarnings(v, u, book.positions.length);
  printWarnings("optimize", warnings);
  const built = optimizeProblemOnMarket({
    snapshot: input.normalized.snapshot,
    market: v.market,
    positions: v.positions,
    spec,
    filter,
    ...(specFile.scenarios ? { scenarioGrid: specFile.scenarios } : {}),
    stress: specFile.stress,
    ...(tenors.length > 0 ? { varianceSwapTenors: tenors } : {}),
    ...(futures.length > 0 ? { volIndexFutures: futures } : {}),
  });
  return { v, built, warnings };
}

type Built = Awaited<ReturnType<typeof problemOnMarket>>;

interface Solved extends Built {
  readonly specFile: OptimizeSpecFile;
  readonly result: OptimizeResult;
  readonly frontier: FrontierResult | null;
  readonly notes: string[];
}

/** The --json document. */
function optimizeJson(s: Solved) {
  const { result, v } = s;
  return {
    status: result.status,
    objective: { kind: result.objectiveKind, valueUsd: result.objectiveUsd },
    trades: result.trades.map((t) => ({
      instrument: t.name,
      side: t.side,
      contracts: t.contracts,
      limitPriceUsd: t.limitPriceUsd,
      edgeUsd: t.edgeUsd,
      explanation: t.explanation,
    })),
    before: summaryJson(result.before),
    after: summaryJson(result.after),
    binding: result.binding,
    cvarLabel: result.cvarLabel,
    verification: result.verification,
    diagnosis: result.diagnosis,
    frontier: s.frontier,
    stats: result.stats,
    valuationTime: new Date(v.valuationTime).toISOString(),
    market: marketJson(v),
    byUnderlying: bookGreeks(v).byUnderlying,
    expired: expiredRows(v),
    excluded: v.excluded,
    warnings: s.warnings,
    notes: s.notes,
    units: {
      ...GREEK_UNITS,
      "before.greeks.deltaCoin":
        "the optimizer's delta: dV_usd/dS in coins of the spec's underlying = risk's deltaUnderlyingCoin (Black's forward delta), NOT risk's premium-adjusted deltaCoin; alias before.greeks.deltaBlackCoin",
      "before/after":
        "the spec underlying's book before and after the trades: greeks (vega per vol point, theta per day, cash gamma USD per 1%), CVaR, worst stress loss and Deribit standard initial margin (the core margin engine's figure on the netted book, as volfolio margin reports it) in USD",
    },
  };
}

/** Table output: the status and the CVaR method (and the diagnosis when not optimal). */
function statusLines(s: Solved): string[] {
  const { result } = s;
  const out = [
    `status: ${result.status}; objective ${result.objectiveKind} = ${r6(result.objectiveUsd)} USD`,
  ];
  if (result.stats.cvarMethod !== "none")
    out.push(
      result.stats.cvarCuts
        ? `CVaR method: cutting planes (Kunzi-Bay-Mayer; ${result.stats.cvarCuts.iterations} master LP solves, ${result.stats.cvarCuts.cuts} cuts)`
        : `CVaR method: whole Rockafellar-Uryasev LP (${s.built.problem.book.scenarioPnlUsd.length} scenario rows)`,
    );
  if (result.status !== "optimal") out.push(result.diagnosis?.text ?? `solver: ${result.solverStatus}`);
  return out;
}

/** Table output of an optimal result: trades, risk before/after, binding rows, roles, frontier. */
function resultLines(s: Solved): string[] {
  const { result, frontier } = s;
  const trades = result.trades.map((t) => ({
    instrument: t.name,
    side: t.side,
    contracts: t.contracts,
    limitUsd: t.limitPriceUsd,
    edgeUsd: t.edgeUsd,
  }));
  const out = ["", formatTable(trades)];
  out.push(
    "",
    `${s.specFile.underlying} book before and after (deltaBlackCoin = Black's forward delta in coins, Deribit's \`delta\`; vega per vol point; theta per day${result.cvarLabel ? `; ${result.cvarLabel}` : ""})`,
    formatTable([
      riskRow("before", result.before, s.built.baskets.length > 0),
      riskRow("after", result.after, s.built.baskets.length > 0),
    ]),
  );
  out.push(
    "",
    `Whole book on this market: ${GREEK_TABLE_TITLE}`,
    formatTable(bookGreeks(s.v).byUnderlying, GREEK_TABLE_COLUMNS),
  );
  out.push(
    "",
    "binding constraints:",
    ...(result.binding.length ? result.binding.map((b) => `  ${b.text}`) : ["  (none)"]),
  );
  out.push("", "trade roles:", ...result.trades.map((t) => `  ${t.explanation}`));
  out.push(
    "",
    `verification: ${result.verification?.ok ? "all constraints hold (recomputed from the trades)" : "FAILED"}`,
  );
  if (frontier) {
    const points = frontier.points.map((p) => ({
      cvarLimitUsd: p.cvarLimitUsd,
      cvarUsd: p.cvarUsd,
      objectiveUsd: p.objectiveUsd,
      trades: p.trades,
    }));
    const method = frontier.cvarMethod === "cuts" ? "cutting planes" : "whole Rockafellar-Uryasev LP";
    out.push("", `CVaR frontier (${method}):`, formatTable(points));
  }
  return out;
}

/** The table output. */
function optimizeTable(s: Solved): string {
  const out: string[] = [...bookHeader(s.v), "", ...statusLines(s)];
  if (s.result.status !== "optimal") return out.join("\n");
  out.push(...resultLines(s));
  out.push("", ...s.warnings.map((w) => `WARNING: ${w}`), ...s.notes.map((n) => `note: ${n}`));
  return out.join("\n");
}

/** The command: spec + book on one market -> solve (HiGHS loaded while the market loads) -> output. */
async function runOptimize(f: Flags): Promise<void> {
  // The one load of the LP solver, at the edge; it runs while the market is read and fitted.
  const solverLoad = loadLpSolver();
  solverLoad.catch(() => undefined); // awaited below; a failure surfaces there, not as unhandled
  const specFile = await loadSpec(f.spec);
  const built = await problemOnMarket(f, specFile);
  const solver = await solverLoad;
  const problem = built.built.problem;
  const result = optimizePortfolio(problem, solver);
  const points =
    f.frontier !== undefined ? parseNumberOption("--frontier", f.frontier) : specFile.frontier?.points;
  const frontier =
    points !== undefined && result.status === "optimal" && problem.book.scenarioPnlUsd.length > 0
      ? efficientFrontier(problem, solver, { points: Math.max(2, Math.round(points)) })
      : null;
  const surfaceNote =
    specFile.surfaceModel !== DEFAULT_SURFACE_MODEL
      ? [
          `market surface ${specFile.surfaceModel} (the spec's surfaceModel); risk, stress and margin fit ${DEFAULT_SURFACE_MODEL}: options at quoted strikes are at their marks in both, unquoted strikes may differ`,
        ]
      : [];
  const notes = [...built.v.notes, ...surfaceNote, ...built.built.notes, ...result.notes];
  const solved: Solved = { ...built, specFile, result, frontier, notes };
  output(f.json, optimizeJson(solved), () => optimizeTable(solved));
  if (result.status !== "optimal")
    throw new CliError(
      `optimize: ${result.status}${result.diagnosis ? ` (${result.diagnosis.text})` : ""}`,
      EXIT_FAILURE,
    );
}

const HELP_AFTER = `
Market (exactly one; the same valuation as volfolio risk, stress and margin):
  --chain FILE   a chain file (Deribit CSV/.csv.gz, Deribit API JSON, Tardis), --time to revalue at another instant
  --live         Deribit's public chains (the spec's underlying and the book's; exit 3 when unreachable)
  --synthetic    seeded synthetic chains (--seed N, --time ISO)
Legs of the book expired at the market's time are settled and listed (never optimized); the
command warns on stderr and in the JSON when that changes the book it optimizes.

Examples:
  volfolio optimize --chain ../shared/data/deribit/sample_BTC_ETH_chain_20260110T091409Z.csv --book examples/book.json --spec examples/optimize-spec.json
  volfolio chain synthetic --seed 42 --time 2026-02-02T08:00:00Z --out /tmp/chain.csv && volfolio optimize --chain /tmp/chain.csv --book examples/book.json --spec examples/optimize-spec.json --json
  volfolio optimize --synthetic --seed 42 --time 2026-02-02T08:00:00Z --book examples/book.json --spec examples/optimize-spec.json --frontier 8

Variance swaps: --with-varswap 30d adds "VS-30d", a fixed basket of the 30-day expiry's DDKZ strip
(1 unit = 1 USD per variance point; its price, greeks, scenario PnL and margin are its legs'); --variance
20 asks for 20 USD per variance point of variance notional (only such baskets carry it).
--with-dvol-future 27MAR26 adds the DVOL future "BTCDVOL-27MAR26", valued by the core on the market's
surface (fair = forward 30-day vol after expiry; no vol-of-variance on a chain market: no convexity
adjustment), cost --dvol-half-spread index points each side; it carries no exchange margin.

Units: deltaBlackCoin in coins (Black's forward delta), gamma as USD cash gamma per 1% move, vega USD per
vol point, theta USD/day, CVaR/stress/margin in USD. Margin is Deribit standard initial margin per
net position, the figures of volfolio margin (core margin engine). --json numbers are full precision; tables round to 6 significant digits.
Exit codes: 0 optimal, 1 infeasible/failed (diagnosis printed), 2 bad flags, spec or book, 3 file or network unavailable.`;

export function register(program: Command): void {
  const cmd = program
    .command("optimize")
    .description("propose trades for a book: objective, greek/CVaR/stress/margin constraints, HiGHS LP/MILP")
    .option(
      "--book <file>",
      "current book (JSON or CSV instrument,quantity[,entryPrice]); empty book if omitted",
    )
    .requiredOption("--spec <file>", "optimizer spec JSON (see examples/optimize-spec.json)");
  addMarketOptions(cmd, { bookMarket: "refused", seed: true })
    .option("--frontier <points>", "also compute the CVaR efficient frontier with this many points")
    .option(
      "--with-varswap <tenors>",
      "add variance-swap candidates VS-<d>d (the chain's replicating strip as one basket; e.g. 30d or 30,60d)",
    )
    .option(
      "--variance <min[:max]>",
      "band on the variance notional, USD per variance point (one number: equal)",
    )
    .option(
      "--with-dvol-future <expiry>",
      "add the DVOL future of this expiry as a candidate (27MAR26 or 2026-03-27)",
    )
    .option("--dvol-half-spread <points>", "DVOL future cost each side, index points (default 0.25, assumed)")
    .option("--json", "JSON output (full precision; `units` names each field)")
    .action(runOptimize);
  cmd.addHelpText("after", HELP_AFTER);
}
