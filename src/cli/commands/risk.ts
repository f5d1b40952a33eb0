/**
 * `volfolio risk | stress | margin --book FILE <market>`: a book valued on ONE market (the market
 * flags, src/cli/bookMarket.ts: --chain FILE | --live | --synthetic | --book-market), the same
 * valuation the optimizer and the demo use (src/web/bookMarket.ts).
 *   risk:   greeks by underlying and expiry bucket (coin and USD), spot x vol grid by full
 *           revaluation (worst scenarios first), optional historical / Monte Carlo VaR-CVaR.
 *   stress: the stress library (historical crashes, hypothetical shocks) with the liquidity
 *           overlay, worst first; the base case's greeks.
 *   margin: per settlement-currency account: equity (cash + positions, core/risk/account.ts),
 *           Deribit standard margin, Deribit portfolio margin with its components (worst risk-matrix
 *           cell with Deribit's labels, extended table, roll shock, delta shock), and the distance to
 *           liquidation by full revaluation (core/margin/liquidation.ts liquidationByRevaluation)
 *           per segregated account and pooled; one function with the demo (web/bookMarket.ts
 *           bookMargin).
 * Every command lists the book's expired legs (settled at the index, stated) and excluded
 * positions (with the reason) in its table and --json, and warns on stderr; neither reaches a
 * figure. --json numbers keep full precision (tables round to 6 significant digits) and carry a
 * `units` object naming each field's meaning.
 */
import { existsSync } from "node:fs";
import type { Command } from "commander";
import type { PortfolioFile } from "../../adapters/portfolioFile.js";
import { loadPriceHistory } from "../../adapters/priceHistory.js";
import { compileBook, scenarioPortfolioPnl } from "../../core/risk/grid.js";
import { linspace, type Scenario, type SurfaceDynamics, scenarioGrid } from "../../core/risk/scenario.js";
import { DEFAULT_LIQUIDITY_OVERLAY, runStress } from "../../core/risk/stress.js";
import { STRESS_LIBRARY } from "../../core/risk/stressLibrary.js";
import { historicalVar, monteCarloVar, type VarResult } from "../../core/risk/var.js";
import {
  type BookMarginFigures,
  bookChainMarketOptions,
  bookGreeks,
  bookMargin,
  bookHeader,
  bookWarnings,
  expiredRows,
  GREEK_TABLE_COLUMNS,
  GREEK_TABLE_TITLE,
  GREEK_UNITS,
  greekRow,
  MARGIN_UNITS,
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
import {
  CliError,
  EXIT_UNAVAILABLE,
  EXIT_USAGE,
  formatNumber,
  formatTable,
  output,
  parseNumberOption,
} from "../io.js";

interface BookFlags extends MarketFlags {
  book: string;
  json?: boolean;
}

/** Parses the market flags, loads the book and values it; prints the warnings on stderr. */
async function valuedBook(
  command: string,
  f: BookFlags,
): Promise<{ v: ValuedBook; warnings: string[]; book: PortfolioFile }> {
  const choice = parseMarketFlags(f, { command, allowBookMarket: true });
  const book = await loadBookFile(f.book);
  const v = await bookOnMarket(book, choice, {
    log: (line) => process.stderr.write(`[${command}] ${line}\n`),
  });
  const warnings = bookWarnings(v);
  printWarnings(command, warnings);
  return { v, warnings, book };
}

/** The --json fields every book command shares: the market, expired and excluded legs, notes. */
function bookJson(v: ValuedBook, warnings: readonly string[]) {
  return {
    valuationTime: new Date(v.valuationTime).toISOString(),
    market: marketJson(v),
    expired: expiredRows(v),
    excluded: v.excluded,
    warnings,
    notes: v.notes,
  };
}

/** The table lines every book command ends with. */
function notesText(v: ValuedBook): string[] {
  return v.notes.length ? ["", ...v.notes.map((n) => `note: ${n}`)] : [];
}

/** Parses "from:to:n" into n evenly spaced values. */
function parseRange(name: string, v: string): number[] {
  const parts = v.split(":");
  if (parts.length !== 3) throw new CliError(`--${name} must be from:to:n, got "${v}"`, EXIT_USAGE);
  const [a, b, n] = parts.map((p) => parseNumberOption(name, p)) as [number, number, number];
  if (!Number.isInteger(n) || n < 1) throw new CliError(`--${name}: n must be an integer >= 1`, EXIT_USAGE);
  return linspace(a, b, n);
}

function parseDynamics(v: string): SurfaceDynamics {
  if (v !== "sticky-strike" && v !== "sticky-moneyness")
    throw new CliError(`--dynamics must be sticky-strike or sticky-moneyness, got "${v}"`, EXIT_USAGE);
  return v;
}

interface RiskFlags extends BookFlags {
  spots: string;
  vols: string;
  dynamics: string;
  roll: string;
  top: string;
  history?: string;
  mcPaths?: string;
  confidence: string;
  horizon: string;
  seed: string;
  workers: string;
}

const MARKET_HELP = `
Market (exactly one; the book file's own parametric "market" section is never the default):
  --chain FILE         a chain file (Deribit CSV/.csv.gz, Deribit API JSON, Tardis), --time to revalue at another instant
  --live               Deribit's public chains, one per underlying of the book (exit 3 when unreachable)
  --synthetic          seeded synthetic chains, one per underlying of the book (--seed N, --time ISO)
  --book-market        the book file's parametric market section
Without one: exit 2 listing these. Legs expired at the market's time are settled at the index
(stated) and listed as expired; positions the market cannot value are listed as excluded; neither
reaches a figure. Chains become a market in one step (core/risk/chainMarket.ts): forwards per expiry,
an SVI surface fitted and pinned to the chain's marks, each option at its mark vol.`;

/** A relative move as a percentage, "none" for null. */
const movePct = (x: number | null): string =>
  x === null ? "none" : `${x > 0 ? "+" : ""}${(x * 100).toFixed(2)}%`;

/** The distance-to-liquidation table: rows and columns (distance only when an account is already below). */
function liquidationTable(m: BookMarginFigures): string {
  const liq = m.liquidationByAccount.map((a) =>
    a.alreadyBelowMaintenance
      ? {
          account: a.account,
          unit: a.unit,
          equity: a.equity,
          maintenance: a.maintenance,
          buffer: a.buffer,
          distance: "already below maintenance",
        }
      : {
          account: a.account,
          unit: a.unit,
          equity: a.equity,
          maintenance: a.maintenance,
          buffer: a.buffer,
          "spot down (strike)": movePct(a.spot["sticky-strike"].down),
          "spot up (strike)": movePct(a.spot["sticky-strike"].up),
          "spot down (moneyness)": movePct(a.spot["sticky-moneyness"].down),
          "spot up (moneyness)": movePct(a.spot["sticky-moneyness"].up),
          "vol up": a.volUp === null ? "none" : `+${(a.volUp * 100).toFixed(2)} pts`,
        },
  );
  const liqCols = [
    "account",
    "unit",
    "equity",
    "maintenance",
    "buffer",
    ...(m.liquidationByAccount.some((a) => a.alreadyBelowMaintenance) ? ["distance"] : []),
    ...(m.liquidationByAccount.some((a) => !a.alreadyBelowMaintenance)
      ? ["spot down (strike)", "spot up (strike)", "spot down (moneyness)", "spot up (moneyness)", "vol up"]
      : []),
  ];
  return formatTable(liq, liqCols);
}

/** The margin command's tables (figures from bookMargin, web/bookMarket.ts). */
function marginText(m: BookMarginFigures): string[] {
  return [
    "Margin by settlement currency (amounts in that currency; std = standard, pm = portfolio margin S:PM)",
    formatTable(
      m.byCurrency.map((r) => ({
        currency: r.currency,
        stdInitial: r.stdInitial,
        stdMaintenance: r.stdMaintenance,
        pmInitial: r.pmInitial,
        pmMaintenance: r.pmMaintenance,
        pmWorst: r.pmWorst,
      })),
    ),
    "",
    "Portfolio margin components (initial = worst case + roll shock + delta shock; maintenance = 0.8 x initial)",
    formatTable(
      m.byCurrency.map((r) => ({
        currency: r.currency,
        worstCase: r.pmWorstCaseLoss,
        "worst cell (Deribit)": r.pmWorstCell,
        standardTable: r.pmStandardTableLoss,
        extendedTable: r.pmExtendedTableLoss,
        rollShock: r.pmRollShock,
        deltaShock: r.pmDeltaShock,
        initial: r.pmInitial,
        maintenance: r.pmMaintenance,
      })),
    ),
    "",
    "Accounts, segregated by settlement currency (cash incl. settled expired legs + positions = equity; buffer = equity - PM maintenance; USD at the index)",
    formatTable(
      m.accounts.map((a) => ({
        currency: a.currency,
        cash: a.cash,
        positions: a.positions,
        equity: a.equity,
        equityUsd: a.equityUsd,
        pmMaintenance: a.pmMaintenance,
        buffer: a.buffer,
        "MM / equity": a.pmMaintenanceRatio === null ? "n/a" : `${(a.pmMaintenanceRatio * 100).toFixed(2)}%`,
      })),
    ),
    `Equity ${formatNumber(m.equityUsd)} USD; portfolio maintenance ${formatNumber(m.portfolioMaintenanceUsd)} USD (initial ${formatNumber(m.portfolioInitialUsd)}); standard maintenance ${formatNumber(m.standardMaintenanceUsd)} USD${m.unpriced.length ? `; left out (no price): ${m.unpriced.join(", ")}` : ""}`,
    "",
    "Distance to liquidation by full revaluation: the first move at which equity < portfolio maintenance,",
    "  positions and coin cash revalued and maintenance recomputed at each bumped market. Spot: every",
    "  underlying together, surface sticky-strike or sticky-moneyness; vol: parallel rise in vol points;",
    "  none = not within -99%..+1000% spot / +500 vol pts. Segregated rows: each currency's account against",
    "  its own maintenance, in its currency; pooled: cross collateral, every account in USD (haircut 0).",
    liquidationTable(m),
    ...(m.liquidationUnpriced.length
      ? [`left out of the liquidation accounts (no price): ${m.liquidationUnpriced.join(", ")}`]
      : []),
  ];
}

/**
 * The scenario grid's P&L on `workers` worker threads, or undefined when the market cannot travel as data.
 * Workers get the book file's parametric section, or the chain market's normalized chains, refitted there
 * with the same options (riskWorkers.ts). Piscina is loaded here, only when --workers asks for it.
 */
async function workerScenarioPnl(
  v: ValuedBook,
  file: PortfolioFile | undefined,
  scenarios: readonly Scenario[],
  workers: number,
): Promise<Float64Array | undefined> {
  const { chainMarketData, createRiskPool, parallelPortfolioPnl } = await import(
    "../../adapters/riskWorkers.js"
  );
  const marketData =
    v.source === "book-market"
      ? file?.marketData
      : v.inputs.length > 0
        ? chainMarketData(v.inputs, bookChainMarketOptions())
        : undefined;
  if (!marketData) return undefined;
  const pool = createRiskPool(workers);
  try {
    return await parallelPortfolioPnl(
      pool,
      { positions: v.positions, market: marketData, scenarios },
      workers,
    );
  } finally {
    await pool.destroy();
  }
}

/** The `top` worst grid scenarios, worst first. */
function worstScenarios(pnl: Float64Array, scenarios: readonly Scenario[], top: number) {
  const order = Array.from(pnl.keys()).sort((a, b) => (pnl[a] ?? Number.NaN) - (pnl[b] ?? Number.NaN));
  return order.slice(0, top).flatMap((j) => {
    const s = scenarios[j];
    return s
      ? [
          {
            scenario: s.name ?? "",
            spotShift: s.spotShift,
            volShift: s.volShift,
            pnlUsd: pnl[j] ?? Number.NaN,
          },
        ]
      : [];
  });
}

/** Historical (--history) and Monte Carlo (--mc-paths) VaR/CVaR of the valued book. */
async function bookVars(v: ValuedBook, f: RiskFlags): Promise<VarResult[]> {
  const confidence = parseNumberOption("confidence", f.confidence);
  const horizonDays = parseNumberOption("horizon", f.horizon);
  const vars: VarResult[] = [];
  if (f.history) {
    if (!existsSync(f.history)) throw new CliError(`history file not found: ${f.history}`, EXIT_UNAVAILABLE);
    const h = await loadPriceHistory(f.history);
    const closes = h.bars.map((b) => b.close);
    vars.push(historicalVar({ positions: v.positions, market: v.market, closes, confidence, horizonDays }));
  }
  if (f.mcPaths)
    vars.push(
      monteCarloVar({
        positions: v.positions,
        market: v.market,
        confidence,
        horizonDays,
        paths: Math.floor(parseNumberOption("mc-paths", f.mcPaths)),
        seed: parseNumberOption("seed", f.seed),
      }),
    );
  return vars;
}

const BUCKET_COLUMNS = [
  "underlying",
  "bucket",
  "deltaBlackCoin",
  "deltaPremiumAdjustedCoin",
  "cashGammaUsd",
  "vegaUsdPerVolPt",
  "vegaNormUsdPerVolPt",
  "thetaUsdPerDay",
];

/** The VaR / CVaR table lines (none without a VaR). */
function varText(vars: readonly VarResult[]): string[] {
  if (vars.length === 0) return [];
  const rows = vars.map((x) => ({
    method: x.method,
    confidence: x.confidence,
    horizonDays: x.horizonDays,
    scenarios: x.scenarios,
    varUsd: x.varUsd,
    cvarUsd: x.cvarUsd,
  }));
  return ["", "VaR / CVaR (USD, positive = loss)", formatTable(rows)];
}

/** `volfolio risk`: greeks by underlying and bucket, the scenario grid's worst cases, VaR. */
async function runRisk(f: RiskFlags): Promise<void> {
  const roll = parseNumberOption("roll", f.roll);
  const spotShifts = parseRange("spots", f.spots);
  const volShifts = parseRange("vols", f.vols);
  const dynamics = parseDynamics(f.dynamics);
  const workers = Math.floor(parseNumberOption("workers", f.workers));
  const { v, warnings, book: file } = await valuedBook("risk", f);
  const { greeks, byUnderlying } = bookGreeks(v);
  const scenarios = scenarioGrid({ spotShifts, volShifts, surfaceDynamics: dynamics, timeRollDays: roll });
  const notes = [...v.notes];
  const pnl =
    (workers > 0 ? await workerScenarioPnl(v, file, scenarios, workers) : undefined) ??
    scenarioPortfolioPnl(compileBook(v.positions, v.market), scenarios);
  const worst = worstScenarios(pnl, scenarios, Math.max(1, Math.floor(parseNumberOption("top", f.top))));
  const vars = await bookVars(v, f);
  const buckets = Object.entries(greeks.byUnderlyingBucket).flatMap(([u, bs]) =>
    Object.entries(bs).map(([b, g]) => ({ ...greekRow(u, g), bucket: b })),
  );
  const json = {
    ...bookJson(v, warnings),
    notes,
    byUnderlying,
    byBucket: buckets,
    totalUsd: greeks.totalUsd,
    scenarios: scenarios.length,
    worstScenarios: worst,
    var: vars,
    units: GREEK_UNITS,
  };
  output(f.json, json, () =>
    [
      ...bookHeader(v),
      "",
      GREEK_TABLE_TITLE,
      formatTable(byUnderlying, GREEK_TABLE_COLUMNS),
      "",
      "By expiry bucket",
      formatTable(buckets, BUCKET_COLUMNS),
      "",
      `Worst of ${scenarios.length} grid scenarios (${f.dynamics}, roll ${roll}d), PnL USD`,
      formatTable(worst),
      ...varText(vars),
      ...notesText({ ...v, notes }),
    ].join("\n"),
  );
}

function registerRisk(program: Command): void {
  const risk = program
    .command("risk")
    .description("Greeks (coin and USD) by underlying and expiry, spot x vol scenario grid, VaR/CVaR")
    .requiredOption(
      "--book <file>",
      "book file (JSON or CSV instrument,quantity[,entryPrice]; see examples/book.json)",
    );
  addMarketOptions(risk, { bookMarket: true, seed: false })
    .option("--spots <from:to:n>", "relative spot shifts of the grid", "-0.5:0.5:21")
    .option("--vols <from:to:n>", "absolute vol shifts (decimal) of the grid", "-0.25:0.25:11")
    .option("--dynamics <d>", "surface dynamics: sticky-strike | sticky-moneyness", "sticky-strike")
    .option("--roll <days>", "days forward (legs expiring within it settle)", "0")
    .option("--top <n>", "worst grid scenarios to list", "10")
    .option(
      "--history <csv>",
      "daily close CSV for historical VaR (e.g. ../shared/data/prices/BTC-USD_daily.csv)",
    )
    .option("--mc-paths <n>", "Monte Carlo (Merton jumps) VaR with n paths")
    .option("--confidence <c>", "VaR confidence", "0.99")
    .option("--horizon <days>", "VaR horizon in days", "1")
    .option(
      "--seed <n>",
      "seed of the --synthetic market (+1 per next underlying) and of the Monte Carlo VaR",
      "1",
    )
    .option("--workers <n>", "worker threads (piscina) for the grid; 0 = in-thread", "0")
    .option("--json", "JSON output (full precision; `units` names each field)")
    .action(runRisk);
  risk.addHelpText(
    "after",
    `${MARKET_HELP}

Examples:
  volfolio risk --book examples/book.json --chain ../shared/data/deribit/sample_BTC_ETH_chain_20260110T091409Z.csv
  volfolio risk --book examples/book.json --synthetic --seed 42 --time 2026-02-02T08:00:00Z --json
  volfolio risk --book book.csv --live --dynamics sticky-moneyness --roll 7
  volfolio risk --book examples/book.json --book-market --workers 2
  volfolio risk --book examples/book.json --chain chain.csv --history ../shared/data/prices/BTC-USD_daily.csv --mc-paths 20000`,
  );
}

const STRESS_UNITS = {
  ...GREEK_UNITS,
  stress:
    "worst first: pnlUsd (USD) and pnlCoin (per underlying, its coin) by full revaluation; closeCostUsd the liquidity overlay; stressedLossUsd = -pnlUsd + closeCostUsd (positive = loss)",
};

/** `volfolio stress`: the stress library on the valued book, worst first, with the base greeks. */
async function runStressCommand(f: BookFlags & { liquidity: boolean }): Promise<void> {
  const { v, warnings } = await valuedBook("stress", f);
  const { greeks, byUnderlying } = bookGreeks(v);
  const res = runStress({
    positions: v.positions,
    market: v.market,
    entries: STRESS_LIBRARY,
    liquidity: f.liquidity ? DEFAULT_LIQUIDITY_OVERLAY : null,
  });
  const rows = res.map((r) => ({
    id: r.id,
    kind: r.kind,
    spot: r.scenario.spotShift,
    vol: r.scenario.volShift,
    pnlUsd: r.pnlUsd,
    closeCostUsd: r.closeCostUsd,
    stressedLossUsd: r.stressedLossUsd,
    pnlCoin: Object.entries(r.pnlCoin)
      .map(([u, x]) => `${Number(x.toPrecision(6))} ${u}`)
      .join(", "),
  }));
  const json = {
    ...bookJson(v, warnings),
    byUnderlying,
    totalUsd: greeks.totalUsd,
    stress: res,
    units: STRESS_UNITS,
  };
  output(f.json, json, () =>
    [
      ...bookHeader(v),
      "",
      `Base case: ${GREEK_TABLE_TITLE}`,
      formatTable(byUnderlying, GREEK_TABLE_COLUMNS),
      "",
      "Stress scenarios, worst first (PnL and costs USD; pnlCoin in each underlying's coin)",
      formatTable(rows),
      ...notesText(v),
    ].join("\n"),
  );
}

function registerStress(program: Command): void {
  const stress = program
    .command("stress")
    .description(
      "Stress library (historical crypto crashes, hypothetical shocks) with the liquidity overlay, worst first",
    )
    .requiredOption("--book <file>", "book file (JSON or CSV)");
  addMarketOptions(stress, { bookMarket: true, seed: true })
    .option("--no-liquidity", "leave out the cost to close (liquidity overlay)")
    .option("--json", "JSON output (full precision; `units` names each field)")
    .action(runStressCommand);
  stress.addHelpText(
    "after",
    `${MARKET_HELP}

Examples:
  volfolio stress --book examples/book.json --chain ../shared/data/deribit/sample_BTC_ETH_chain_20260110T091409Z.csv
  volfolio stress --book examples/book.json --synthetic --seed 42 --time 2026-02-02T08:00:00Z --no-liquidity --json
  volfolio stress --book examples/book.json --book-market`,
  );
}

/** `volfolio margin`: per settlement-currency account, standard and portfolio margin, liquidation. */
async function runMargin(f: BookFlags): Promise<void> {
  const { v, warnings } = await valuedBook("margin", f);
  const { greeks, byUnderlying } = bookGreeks(v);
  const m = bookMargin(v);
  const units = { ...GREEK_UNITS, ...MARGIN_UNITS };
  output(f.json, { ...bookJson(v, warnings), byUnderlying, totalUsd: greeks.totalUsd, ...m, units }, () =>
    [
      ...bookHeader(v),
      "",
      GREEK_TABLE_TITLE,
      formatTable(byUnderlying, GREEK_TABLE_COLUMNS),
      "",
      ...marginText(m),
      ...notesText(v),
    ].join("\n"),
  );
}

function registerMargin(program: Command): void {
  const margin = program
    .command("margin")
    .description(
      "Per settlement-currency account: equity, Deribit standard and portfolio margin (with components), distance to liquidation by full revaluation (segregated and pooled)",
    )
    .requiredOption("--book <file>", "book file (JSON or CSV; JSON may carry cash)");
  addMarketOptions(margin, { bookMarket: true, seed: true })
    .option("--json", "JSON output (full precision; `units` names each field)")
    .action(runMargin);
  margin.addHelpText(
    "after",
    `${MARKET_HELP}

Output, one account per settlement currency (BTC, ETH: inverse legs; USDC: linear legs), amounts in
that currency: standard and portfolio (Deribit S:PM) IM/MM; the PM components (worst risk-matrix cell
with Deribit's index/bucket/side, extended table, roll shock, delta shock; IM = worst case + roll +
delta shock, MM = 0.8 IM); equity = cash + positions; the distance to liquidation by full revaluation
(spot down/up sticky-strike and sticky-moneyness, vol up; positions and coin cash revalued and
maintenance recomputed at each bumped market) per segregated account and pooled (cross collateral, USD).
--json: liquidationByAccount has every row; liquidation = the pooled row, sticky-strike.

Examples:
  volfolio margin --book examples/book.json --chain ../shared/data/deribit/sample_BTC_ETH_chain_20260110T091409Z.csv
  volfolio margin --book examples/book.json --synthetic --seed 42 --time 2026-02-02T08:00:00Z --json
  volfolio margin --book examples/book.json --book-market`,
  );
}

/** Registers `risk`, `stress` and `margin`. */
export function register(program: Command): void {
  registerRisk(program);
  registerStress(program);
  registerMargin(program);
}
