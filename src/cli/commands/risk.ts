/**
 * `volfolio risk | stress | margin --book FILE <market>`: a book valued on ONE market (the market
 * flags, src/cli/bookMarket.ts: --chain FILE | --live | --synthetic | --book-market), the same
 * valuation the optimizer and the demo use (src/web/bookMarket.ts).
 *   risk:   greeks by underlying and expiry bucket (coin and USD), spot x vol grid by full
 *           revaluation (worst scenarios first), optional historical / Monte Carlo VaR-CVaR.
 *   stress: the stress library (historical crashes, hypothetical shocks) with the liquidity
 *           overlay, worst first; the base case's greeks.
 *   margin: Deribit-style standard margin, risk-matrix portfolio margin, account equity
 *           (core/risk/account.ts), distance to liquidation.
 * Every command lists the book's expired legs (settled at the index, stated) and excluded
 * positions (with the reason) in its table and --json, and warns on stderr; neither reaches a
 * figure. --json numbers keep full precision (tables round to 6 significant digits) and carry a
 * `units` object naming each field's meaning.
 */
import { existsSync } from "node:fs";
import type { Command } from "commander";
import type { PortfolioFile } from "../../adapters/portfolioFile.js";
import { loadPriceHistory } from "../../adapters/priceHistory.js";
import { chainMarketData, createRiskPool, parallelPortfolioPnl } from "../../adapters/riskWorkers.js";
import { standardBookMargin } from "../../core/margin/book.js";
import { liquidationDistance } from "../../core/margin/liquidation.js";
import { portfolioMargin } from "../../core/margin/portfolioMargin.js";
import { sumUsd } from "../../core/risk/account.js";
import { compileBook, scenarioPortfolioPnl } from "../../core/risk/grid.js";
import { linspace, type Scenario, type SurfaceDynamics, scenarioGrid } from "../../core/risk/scenario.js";
import { runStress } from "../../core/risk/stress.js";
import { STRESS_LIBRARY } from "../../core/risk/stressLibrary.js";
import { historicalVar, monteCarloVar, type VarResult } from "../../core/risk/var.js";
import {
  bookAccount,
  bookChainMarketOptions,
  bookGreeks,
  bookHeader,
  bookWarnings,
  expiredRows,
  GREEK_TABLE_COLUMNS,
  GREEK_TABLE_TITLE,
  GREEK_UNITS,
  greekRow,
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
import { CliError, EXIT_UNAVAILABLE, EXIT_USAGE, formatTable, output, parseNumberOption } from "../io.js";

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

export function register(program: Command): void {
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
    .action(async (f: RiskFlags) => {
      const roll = parseNumberOption("roll", f.roll);
      const spotShifts = parseRange("spots", f.spots);
      const volShifts = parseRange("vols", f.vols);
      const dynamics = parseDynamics(f.dynamics);
      const workers = Math.floor(parseNumberOption("workers", f.workers));
      const { v, warnings, book: file } = await valuedBook("risk", f);
      const { greeks, byUnderlying } = bookGreeks(v);
      const scenarios = scenarioGrid({
        spotShifts,
        volShifts,
        surfaceDynamics: dynamics,
        timeRollDays: roll,
      });
      const notes = [...v.notes];
      let pnl: Float64Array;
      // Worker threads get the market as data: the book file's parametric section, or the chain
      // market's normalized chains, refitted there with the same options (riskWorkers.ts).
      const marketData =
        v.source === "book-market"
          ? file?.marketData
          : v.inputs.length > 0
            ? chainMarketData(v.inputs, bookChainMarketOptions())
            : undefined;
      if (workers > 0 && marketData) {
        const pool = createRiskPool(workers);
        try {
          pnl = await parallelPortfolioPnl(
            pool,
            { positions: v.positions, market: marketData, scenarios },
            workers,
          );
        } finally {
          await pool.destroy();
        }
      } else pnl = scenarioPortfolioPnl(compileBook(v.positions, v.market), scenarios);
      const order = Array.from(pnl.keys()).sort((a, b) => (pnl[a] as number) - (pnl[b] as number));
      const top = Math.max(1, Math.floor(parseNumberOption("top", f.top)));
      const worst = order.slice(0, top).map((j) => ({
        scenario: (scenarios[j] as Scenario).name ?? "",
        spotShift: (scenarios[j] as Scenario).spotShift,
        volShift: (scenarios[j] as Scenario).volShift,
        pnlUsd: pnl[j] as number,
      }));
      const confidence = parseNumberOption("confidence", f.confidence);
      const horizonDays = parseNumberOption("horizon", f.horizon);
      const vars: VarResult[] = [];
      if (f.history) {
        if (!existsSync(f.history))
          throw new CliError(`history file not found: ${f.history}`, EXIT_UNAVAILABLE);
        const h = await loadPriceHistory(f.history);
        vars.push(
          historicalVar({
            positions: v.positions,
            market: v.market,
            closes: h.bars.map((b) => b.close),
            confidence,
            horizonDays,
          }),
        );
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
      const buckets = Object.entries(greeks.byUnderlyingBucket).flatMap(([u, bs]) =>
        Object.entries(bs).map(([b, g]) => ({ ...greekRow(u, g), bucket: b })),
      );
      const vd = { ...bookJson(v, warnings), notes };
      output(
        f.json,
        {
          ...vd,
          byUnderlying,
          byBucket: buckets,
          totalUsd: greeks.totalUsd,
          scenarios: scenarios.length,
          worstScenarios: worst,
          var: vars,
          units: GREEK_UNITS,
        },
        () =>
          [
            ...bookHeader(v),
            "",
            GREEK_TABLE_TITLE,
            formatTable(byUnderlying, GREEK_TABLE_COLUMNS),
            "",
            "By expiry bucket",
            formatTable(buckets, [
              "underlying",
              "bucket",
              "deltaBlackCoin",
              "deltaPremiumAdjustedCoin",
              "cashGammaUsd",
              "vegaUsdPerVolPt",
              "vegaNormUsdPerVolPt",
              "thetaUsdPerDay",
            ]),
            "",
            `Worst of ${scenarios.length} grid scenarios (${f.dynamics}, roll ${roll}d), PnL USD`,
            formatTable(worst),
            ...(vars.length
              ? [
                  "",
                  "VaR / CVaR (USD, positive = loss)",
                  formatTable(
                    vars.map((x) => ({
                      method: x.method,
                      confidence: x.confidence,
                      horizonDays: x.horizonDays,
                      scenarios: x.scenarios,
                      varUsd: x.varUsd,
                      cvarUsd: x.cvarUsd,
                    })),
                  ),
                ]
              : []),
            ...notesText({ ...v, notes }),
          ].join("\n"),
      );
    });
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

  const stress = program
    .command("stress")
    .description(
      "Stress library (historical crypto crashes, hypothetical shocks) with the liquidity overlay, worst first",
    )
    .requiredOption("--book <file>", "book file (JSON or CSV)");
  addMarketOptions(stress, { bookMarket: true, seed: true })
    .option("--no-liquidity", "leave out the cost to close (liquidity overlay)")
    .option("--json", "JSON output (full precision; `units` names each field)")
    .action(async (f: BookFlags & { liquidity: boolean }) => {
      const { v, warnings } = await valuedBook("stress", f);
      const { greeks, byUnderlying } = bookGreeks(v);
      const res = runStress({
        positions: v.positions,
        market: v.market,
        entries: STRESS_LIBRARY,
        liquidity: f.liquidity ? undefined : null,
      });
      output(
        f.json,
        {
          ...bookJson(v, warnings),
          byUnderlying,
          totalUsd: greeks.totalUsd,
          stress: res,
          units: {
            ...GREEK_UNITS,
            stress:
              "worst first: pnlUsd (USD) and pnlCoin (per underlying, its coin) by full revaluation; closeCostUsd the liquidity overlay; stressedLossUsd = -pnlUsd + closeCostUsd (positive = loss)",
          },
        },
        () =>
          [
            ...bookHeader(v),
            "",
            `Base case: ${GREEK_TABLE_TITLE}`,
            formatTable(byUnderlying, GREEK_TABLE_COLUMNS),
            "",
            "Stress scenarios, worst first (PnL and costs USD; pnlCoin in each underlying's coin)",
            formatTable(
              res.map((r) => ({
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
              })),
            ),
            ...notesText(v),
          ].join("\n"),
      );
    });
  stress.addHelpText(
    "after",
    `${MARKET_HELP}

Examples:
  volfolio stress --book examples/book.json --chain ../shared/data/deribit/sample_BTC_ETH_chain_20260110T091409Z.csv
  volfolio stress --book examples/book.json --synthetic --seed 42 --time 2026-02-02T08:00:00Z --no-liquidity --json
  volfolio stress --book examples/book.json --book-market`,
  );

  const margin = program
    .command("margin")
    .description("Deribit-style standard margin, risk-matrix portfolio margin and distance to liquidation")
    .requiredOption("--book <file>", "book file (JSON or CSV; JSON may carry cash)");
  addMarketOptions(margin, { bookMarket: true, seed: true })
    .option("--json", "JSON output (full precision; `units` names each field)")
    .action(async (f: BookFlags) => {
      const { v, warnings } = await valuedBook("margin", f);
      const { greeks, byUnderlying } = bookGreeks(v);
      const std = standardBookMargin(v.positions, v.market);
      const pm = portfolioMargin(v.positions, v.market);
      const account = bookAccount(v);
      const pmMaint = sumUsd(
        Object.fromEntries(Object.entries(pm.byCurrency).map(([c, m]) => [c, m.maintenance])),
        v.market,
      );
      const dist = liquidationDistance({
        positions: v.positions,
        market: v.market,
        equityUsd: account.equityUsd,
        maintenanceUsd: pmMaint.totalUsd,
      });
      const rows = Object.keys({ ...std.byCurrency, ...pm.byCurrency }).map((cur) => ({
        currency: cur,
        stdInitial: std.byCurrency[cur]?.initial ?? 0,
        stdMaintenance: std.byCurrency[cur]?.maintenance ?? 0,
        pmInitial: pm.byCurrency[cur]?.initial ?? 0,
        pmMaintenance: pm.byCurrency[cur]?.maintenance ?? 0,
        pmWorst: pm.byCurrency[cur]?.worstScenario ?? "",
      }));
      const unpriced = [
        ...account.unpriced.map((u) => `${u.amount} ${u.currency} of equity (${u.reason})`),
        ...pmMaint.unpriced.map((c) => `${c} maintenance margin (no ${c} index in the market)`),
      ];
      output(
        f.json,
        {
          ...bookJson(v, warnings),
          byUnderlying,
          totalUsd: greeks.totalUsd,
          byCurrency: rows,
          account,
          equityUsd: account.equityUsd,
          portfolioMaintenanceUsd: pmMaint.totalUsd,
          unpriced,
          liquidation: dist,
          riskMatrix: pm.matrix,
          units: {
            ...GREEK_UNITS,
            byCurrency:
              "margins in that settlement currency (the coin for inverse legs, USDC for linear ones)",
            account:
              "cash (book file, plus expired legs' settlement values) + positions per settlement currency, and USD at the market's index (core/risk/account.ts)",
            equityUsd:
              "account equity in USD over the currencies the market prices (unpriced ones listed, never a NaN)",
            portfolioMaintenanceUsd: "risk-matrix maintenance margin summed in USD at the index",
            liquidation:
              "smallest spot move (relative) / vol move (absolute) whose loss exhausts equity - maintenance; null = none in range",
          },
        },
        () =>
          [
            ...bookHeader(v),
            "",
            GREEK_TABLE_TITLE,
            formatTable(byUnderlying, GREEK_TABLE_COLUMNS),
            "",
            "Margin by settlement currency (amounts in that currency)",
            formatTable(rows),
            "",
            "Account (cash incl. settled expired legs + positions; USD at the index)",
            formatTable(Object.values(account.byCurrency).map((c) => ({ ...c }))),
            `Equity ${Number(account.equityUsd.toPrecision(6))} USD, PM maintenance ${Number(pmMaint.totalUsd.toPrecision(6))} USD${unpriced.length ? `; left out (no price): ${unpriced.join(", ")}` : ""}`,
            "Distance to liquidation (move exhausting equity - maintenance; spot relative, vol absolute)",
            formatTable([
              {
                spotDown: dist.spotDown ?? "none",
                spotUp: dist.spotUp ?? "none",
                volUp: dist.volUp ?? "none",
                volDown: dist.volDown ?? "none",
                bufferUsd: dist.bufferUsd,
              },
            ]),
            ...notesText(v),
          ].join("\n"),
      );
    });
  margin.addHelpText(
    "after",
    `${MARKET_HELP}

Examples:
  volfolio margin --book examples/book.json --chain ../shared/data/deribit/sample_BTC_ETH_chain_20260110T091409Z.csv
  volfolio margin --book examples/book.json --synthetic --seed 42 --time 2026-02-02T08:00:00Z --json
  volfolio margin --book examples/book.json --book-market`,
  );
}
