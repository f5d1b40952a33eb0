/**
 * `volfolio risk | stress | margin` over a book file (examples/book.json: positions + market).
 *   risk:   greeks by underlying and expiry bucket (coin and USD), spot x vol grid by full
 *           revaluation (worst scenarios first), optional historical / Monte Carlo VaR-CVaR.
 *   stress: the stress library (historical crashes, hypothetical shocks) with the liquidity
 *           overlay, worst first.
 *   margin: Deribit-style standard margin, risk-matrix portfolio margin, distance to liquidation.
 */
import { existsSync } from "node:fs";
import { InputFileError } from "../../adapters/inputFile.js";
import type { Command } from "commander";
import { loadPortfolioFile, type PortfolioFile } from "../../adapters/portfolioFile.js";
import { loadPriceHistory } from "../../adapters/priceHistory.js";
import { createRiskPool, parallelPortfolioPnl } from "../../adapters/riskWorkers.js";
import { standardBookMargin } from "../../core/margin/book.js";
import { liquidationDistance } from "../../core/margin/liquidation.js";
import { portfolioMargin } from "../../core/margin/portfolioMargin.js";
import { portfolioGreeks } from "../../core/risk/greeks.js";
import { compileBook, scenarioPortfolioPnl } from "../../core/risk/grid.js";
import { linspace, type Scenario, type SurfaceDynamics, scenarioGrid } from "../../core/risk/scenario.js";
import { runStress } from "../../core/risk/stress.js";
import { STRESS_LIBRARY } from "../../core/risk/stressLibrary.js";
import { historicalVar, monteCarloVar, type VarResult } from "../../core/risk/var.js";
import {
  CliError,
  EXIT_FAILURE,
  EXIT_UNAVAILABLE,
  EXIT_USAGE,
  formatTable,
  output,
  parseNumberOption,
} from "../io.js";

const r6 = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(6)) : x);

async function loadBook(
  path: string,
): Promise<PortfolioFile & { market: NonNullable<PortfolioFile["market"]> }> {
  if (!existsSync(path)) throw new CliError(`book file not found: ${path}`, EXIT_UNAVAILABLE);
  let f: PortfolioFile;
  try {
    f = await loadPortfolioFile(path);
  } catch (e) {
    if (e instanceof InputFileError) throw e; // one line naming the path; exit 3 when unreadable
    throw new CliError(`cannot read book ${path}: ${(e as Error).message.split("\n")[0]}`, EXIT_FAILURE);
  }
  if (f.rejected.length > 0)
    throw new CliError(
      `book ${path}: ${f.rejected.length} bad row(s); first: row ${f.rejected[0]?.row}: ${f.rejected[0]?.reason}`,
      EXIT_FAILURE,
    );
  if (!f.market)
    throw new CliError(`book ${path} has no "market" section (index, vols, forwards)`, EXIT_FAILURE);
  return f as PortfolioFile & { market: NonNullable<PortfolioFile["market"]> };
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

interface RiskFlags {
  book: string;
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
  json?: boolean;
}

export function register(program: Command): void {
  const risk = program
    .command("risk")
    .description("Greeks (coin and USD) by underlying and expiry, spot x vol scenario grid, VaR/CVaR")
    .requiredOption("--book <file>", "book file (JSON with positions and market, see examples/book.json)")
    .option("--spots <from:to:n>", "relative spot shifts of the grid", "-0.5:0.5:21")
    .option("--vols <from:to:n>", "absolute vol shifts (decimal) of the grid", "-0.25:0.25:11")
    .option("--dynamics <d>", "surface dynamics: sticky-strike | sticky-moneyness", "sticky-strike")
    .option("--roll <days>", "days forward (expired legs settle)", "0")
    .option("--top <n>", "worst grid scenarios to list", "10")
    .option(
      "--history <csv>",
      "daily close CSV for historical VaR (e.g. ../shared/data/prices/BTC-USD_daily.csv)",
    )
    .option("--mc-paths <n>", "Monte Carlo (Merton jumps) VaR with n paths")
    .option("--confidence <c>", "VaR confidence", "0.99")
    .option("--horizon <days>", "VaR horizon in days", "1")
    .option("--seed <n>", "Monte Carlo seed", "1")
    .option("--workers <n>", "worker threads (piscina) for the grid; 0 = in-thread", "0")
    .option("--json", "JSON output")
    .action(async (f: RiskFlags) => {
      const book = await loadBook(f.book);
      const roll = parseNumberOption("roll", f.roll);
      const greeks = portfolioGreeks(book.positions, book.market);
      const scenarios = scenarioGrid({
        spotShifts: parseRange("spots", f.spots),
        volShifts: parseRange("vols", f.vols),
        surfaceDynamics: parseDynamics(f.dynamics),
        timeRollDays: roll,
      });
      const workers = Math.floor(parseNumberOption("workers", f.workers));
      let pnl: Float64Array;
      if (workers > 0 && book.marketData) {
        const pool = createRiskPool(workers);
        try {
          pnl = await parallelPortfolioPnl(
            pool,
            { positions: book.positions, market: book.marketData, scenarios },
            workers,
          );
        } finally {
          await pool.destroy();
        }
      } else pnl = scenarioPortfolioPnl(compileBook(book.positions, book.market), scenarios);
      const order = Array.from(pnl.keys()).sort((a, b) => (pnl[a] as number) - (pnl[b] as number));
      const top = Math.max(1, Math.floor(parseNumberOption("top", f.top)));
      const worst = order.slice(0, top).map((j) => ({
        scenario: (scenarios[j] as Scenario).name ?? "",
        spotShift: (scenarios[j] as Scenario).spotShift,
        volShift: (scenarios[j] as Scenario).volShift,
        pnlUsd: r6(pnl[j] as number),
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
            positions: book.positions,
            market: book.market,
            closes: h.bars.map((b) => b.close),
            confidence,
            horizonDays,
          }),
        );
      }
      if (f.mcPaths)
        vars.push(
          monteCarloVar({
            positions: book.positions,
            market: book.market,
            confidence,
            horizonDays,
            paths: Math.floor(parseNumberOption("mc-paths", f.mcPaths)),
            seed: parseNumberOption("seed", f.seed),
          }),
        );
      const byUnderlying = Object.entries(greeks.byUnderlying).map(([u, g]) => ({
        underlying: u,
        valueUsd: r6(g.valueUsd),
        valueCoin: r6(g.valueCoin),
        deltaCoin: r6(g.deltaCoin),
        deltaUnderlyingCoin: r6(g.deltaUnderlyingCoin),
        cashDeltaUsd: r6(g.cashDeltaUsd),
        cashGammaUsd: r6(g.cashGammaUsd),
        vegaUsdPerVolPt: r6(g.vegaUsd / 100),
        vegaNormUsdPerVolPt: r6(g.vegaNormalizedUsd / 100),
        thetaUsdPerDay: r6(g.thetaUsdPerDay),
        vannaUsd: r6(g.vannaUsd),
        volgaUsd: r6(g.volgaUsd),
      }));
      const buckets = Object.entries(greeks.byUnderlyingBucket).flatMap(([u, bs]) =>
        Object.entries(bs).map(([b, g]) => ({
          underlying: u,
          bucket: b,
          deltaCoin: r6(g.deltaCoin),
          cashGammaUsd: r6(g.cashGammaUsd),
          vegaUsdPerVolPt: r6(g.vegaUsd / 100),
          vegaNormUsdPerVolPt: r6(g.vegaNormalizedUsd / 100),
          thetaUsdPerDay: r6(g.thetaUsdPerDay),
        })),
      );
      output(
        f.json,
        {
          valuationTime: new Date(book.market.valuationTime).toISOString(),
          byUnderlying,
          byBucket: buckets,
          totalUsd: greeks.totalUsd,
          scenarios: scenarios.length,
          worstScenarios: worst,
          var: vars,
        },
        () =>
          [
            "Greeks by underlying (coin = that underlying's coin; vega per vol point)",
            formatTable(byUnderlying),
            "",
            "By expiry bucket",
            formatTable(buckets),
            "",
            `Worst of ${scenarios.length} grid scenarios (${f.dynamics}, roll ${roll}d), PnL USD`,
            formatTable(worst),
            ...(vars.length
              ? [
                  "",
                  "VaR / CVaR (USD, positive = loss)",
                  formatTable(
                    vars.map((v) => ({
                      method: v.method,
                      confidence: v.confidence,
                      horizonDays: v.horizonDays,
                      scenarios: v.scenarios,
                      varUsd: r6(v.varUsd),
                      cvarUsd: r6(v.cvarUsd),
                    })),
                  ),
                ]
              : []),
          ].join("\n"),
      );
    });
  risk.addHelpText(
    "after",
    "\nExamples:\n  volfolio risk --book examples/book.json\n  volfolio risk --book examples/book.json --dynamics sticky-moneyness --roll 7 --workers 2 --json\n  volfolio risk --book examples/book.json --history ../shared/data/prices/BTC-USD_daily.csv --mc-paths 20000 --horizon 1",
  );

  const stress = program
    .command("stress")
    .description(
      "Stress library (historical crypto crashes, hypothetical shocks) with the liquidity overlay, worst first",
    )
    .requiredOption("--book <file>", "book file (JSON with positions and market)")
    .option("--no-liquidity", "leave out the cost to close (liquidity overlay)")
    .option("--json", "JSON output")
    .action(async (f: { book: string; liquidity: boolean; json?: boolean }) => {
      const book = await loadBook(f.book);
      const res = runStress({
        positions: book.positions,
        market: book.market,
        entries: STRESS_LIBRARY,
        liquidity: f.liquidity ? undefined : null,
      });
      output(f.json, res, () =>
        formatTable(
          res.map((r) => ({
            id: r.id,
            kind: r.kind,
            spot: r.scenario.spotShift,
            vol: r.scenario.volShift,
            pnlUsd: r6(r.pnlUsd),
            closeCostUsd: r6(r.closeCostUsd),
            stressedLossUsd: r6(r.stressedLossUsd),
            pnlCoin: Object.entries(r.pnlCoin)
              .map(([u, x]) => `${r6(x)} ${u}`)
              .join(", "),
          })),
        ),
      );
    });
  stress.addHelpText(
    "after",
    "\nExamples:\n  volfolio stress --book examples/book.json\n  volfolio stress --book examples/book.json --no-liquidity --json",
  );

  const margin = program
    .command("margin")
    .description("Deribit-style standard margin, risk-matrix portfolio margin and distance to liquidation")
    .requiredOption("--book <file>", "book file (JSON with positions, cash and market)")
    .option("--json", "JSON output")
    .action(async (f: { book: string; json?: boolean }) => {
      const book = await loadBook(f.book);
      const std = standardBookMargin(book.positions, book.market);
      const pm = portfolioMargin(book.positions, book.market);
      const price = (cur: string) =>
        cur === "USDC" || cur === "USD" ? 1 : (book.market.underlyings[cur]?.indexPrice ?? Number.NaN);
      let cashUsd = 0;
      for (const [cur, amt] of Object.entries(book.cash ?? {})) cashUsd += amt * price(cur);
      const valueUsd = portfolioGreeks(book.positions, book.market).totalUsd.valueUsd;
      const equityUsd = cashUsd + valueUsd;
      let pmMaintUsd = 0;
      for (const [cur, m] of Object.entries(pm.byCurrency)) pmMaintUsd += m.maintenance * price(cur);
      const dist = liquidationDistance({
        positions: book.positions,
        market: book.market,
        equityUsd,
        maintenanceUsd: pmMaintUsd,
      });
      const rows = Object.keys({ ...std.byCurrency, ...pm.byCurrency }).map((cur) => ({
        currency: cur,
        stdInitial: r6(std.byCurrency[cur]?.initial ?? 0),
        stdMaintenance: r6(std.byCurrency[cur]?.maintenance ?? 0),
        pmInitial: r6(pm.byCurrency[cur]?.initial ?? 0),
        pmMaintenance: r6(pm.byCurrency[cur]?.maintenance ?? 0),
        pmWorst: pm.byCurrency[cur]?.worstScenario ?? "",
      }));
      output(
        f.json,
        {
          byCurrency: rows,
          equityUsd,
          portfolioMaintenanceUsd: pmMaintUsd,
          liquidation: dist,
          riskMatrix: pm.matrix,
        },
        () =>
          [
            "Margin by settlement currency (amounts in that currency)",
            formatTable(rows),
            "",
            `Equity ${r6(equityUsd)} USD, PM maintenance ${r6(pmMaintUsd)} USD`,
            "Distance to liquidation (move exhausting equity - maintenance; spot relative, vol absolute)",
            formatTable([
              {
                spotDown: dist.spotDown ?? "none",
                spotUp: dist.spotUp ?? "none",
                volUp: dist.volUp ?? "none",
                volDown: dist.volDown ?? "none",
                bufferUsd: r6(dist.bufferUsd),
              },
            ]),
          ].join("\n"),
      );
    });
  margin.addHelpText(
    "after",
    "\nExamples:\n  volfolio margin --book examples/book.json\n  volfolio margin --book examples/book.json --json",
  );
}
