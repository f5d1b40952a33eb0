/**
 * `volfolio optimize --chain FILE --book FILE --spec FILE [--json] [--frontier N]`:
 * chain + book + spec -> proposed trades (HiGHS), risk before/after, binding constraints,
 * a plain-language role per trade, and optionally the CVaR efficient frontier as data.
 */
import { existsSync } from "node:fs";
import { InputFileError } from "../../adapters/inputFile.js";
import type { Command } from "commander";
import { loadChainFile } from "../../adapters/chainFile.js";
import { loadOptimizeSpecFile, optimizeSpecParts } from "../../adapters/optimizeSpec.js";
import { loadPortfolioFile } from "../../adapters/portfolioFile.js";
import { efficientFrontier } from "../../core/optimize/frontier.js";
import { optimizeProblemFromChain } from "../../core/optimize/fromChain.js";
import { optimizePortfolio } from "../../core/optimize/optimize.js";
import type { OptimizeRiskSummary } from "../../core/optimize/verify.js";
import {
  CliError,
  EXIT_FAILURE,
  EXIT_UNAVAILABLE,
  EXIT_USAGE,
  formatTable,
  output,
  parseNumberOption,
} from "../io.js";

interface Flags {
  chain: string;
  book?: string;
  spec: string;
  frontier?: string;
  json?: boolean;
}

const r6 = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(6)) : null);

function riskRow(label: string, s: OptimizeRiskSummary) {
  return {
    book: label,
    deltaCoin: r6(s.greeks.deltaCoin),
    cashGammaUsd: r6(s.greeks.cashGammaUsd),
    vegaUsdPerVolPt: r6(s.greeks.vegaUsdPerVolPt),
    thetaUsdPerDay: r6(s.greeks.thetaUsdPerDay),
    [`cvar${Math.round(s.alpha * 100)}Usd`]: r6(s.cvarUsd),
    worstStressUsd: r6(s.worstStressLossUsd),
    marginUsd: r6(s.marginUsd),
  };
}

export function register(program: Command): void {
  const cmd = program
    .command("optimize")
    .description("propose trades for a book: objective, greek/CVaR/stress/margin constraints, HiGHS LP/MILP")
    .requiredOption("--chain <file>", "option chain file (Deribit CSV/.csv.gz, Tardis CSV, Deribit API JSON)")
    .option("--book <file>", "current book (portfolio JSON/CSV); empty book if omitted")
    .requiredOption("--spec <file>", "optimizer spec JSON (see examples/optimize-spec.json)")
    .option("--frontier <points>", "also compute the CVaR efficient frontier with this many points")
    .option("--json", "JSON output")
    .action(async (f: Flags) => {
      for (const p of [f.chain, f.spec, f.book])
        if (p !== undefined && !existsSync(p)) throw new CliError(`file not found: ${p}`, EXIT_UNAVAILABLE);
      // A spec that fails validation is a usage error (exit 2); the message names the field.
      const specFile = await loadOptimizeSpecFile(f.spec).catch((e: unknown) => {
        if (e instanceof InputFileError) throw e; // unreadable file: exit 3, not a usage error
        throw new CliError(e instanceof Error ? e.message : String(e), EXIT_USAGE);
      });
      const { spec, filter } = optimizeSpecParts(specFile);
      const chains = await loadChainFile(f.chain);
      const chain = chains.chains.find((c) => c.underlying === specFile.underlying);
      if (!chain)
        throw new CliError(
          `no ${specFile.underlying} chain in ${f.chain} (found: ${chains.chains.map((c) => c.underlying).join(", ") || "none"})`,
          EXIT_FAILURE,
        );
      const book = f.book ? await loadPortfolioFile(f.book) : { positions: [], rejected: [] };
      if (book.rejected.length > 0)
        throw new CliError(
          `book: ${book.rejected.length} bad rows (first: row ${book.rejected[0]?.row}: ${book.rejected[0]?.reason})`,
        );
      const built = optimizeProblemFromChain({
        chain,
        positions: book.positions,
        spec,
        filter,
        ...(specFile.scenarios ? { scenarioGrid: specFile.scenarios } : {}),
        stress: specFile.stress,
        surfaceModel: specFile.surfaceModel,
      });
      const result = await optimizePortfolio(built.problem);
      const points =
        f.frontier !== undefined ? parseNumberOption("--frontier", f.frontier) : specFile.frontier?.points;
      const frontier =
        points !== undefined && result.status === "optimal" && built.problem.book.scenarioPnlUsd.length > 0
          ? await efficientFrontier(built.problem, { points: Math.max(2, Math.round(points)) })
          : null;
      const notes = [...built.notes, ...result.notes];
      const data = {
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
        before: result.before,
        after: result.after,
        binding: result.binding,
        verification: result.verification,
        diagnosis: result.diagnosis,
        frontier,
        stats: result.stats,
        notes,
      };
      output(f.json, data, () => {
        const out: string[] = [];
        out.push(
          `status: ${result.status}; objective ${result.objectiveKind} = ${r6(result.objectiveUsd)} USD`,
        );
        if (result.status !== "optimal") {
          out.push(result.diagnosis?.text ?? `solver: ${result.solverStatus}`);
          return out.join("\n");
        }
        out.push(
          "",
          formatTable(
            result.trades.map((t) => ({
              instrument: t.name,
              side: t.side,
              contracts: r6(t.contracts),
              limitUsd: r6(t.limitPriceUsd),
              edgeUsd: r6(t.edgeUsd),
            })),
          ),
        );
        out.push("", formatTable([riskRow("before", result.before), riskRow("after", result.after)]));
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
        if (frontier)
          out.push(
            "",
            "CVaR frontier:",
            formatTable(
              frontier.points.map((p) => ({
                cvarLimitUsd: r6(p.cvarLimitUsd),
                cvarUsd: r6(p.cvarUsd),
                objectiveUsd: r6(p.objectiveUsd),
                trades: p.trades,
              })),
            ),
          );
        out.push("", ...notes.map((n) => `note: ${n}`));
        return out.join("\n");
      });
      if (result.status !== "optimal")
        throw new CliError(
          `optimize: ${result.status}${result.diagnosis ? ` (${result.diagnosis.text})` : ""}`,
          EXIT_FAILURE,
        );
    });
  cmd.addHelpText(
    "after",
    `
Examples:
  volfolio optimize --chain ../shared/data/deribit/sample_BTC_ETH_chain_20260110T091409Z.csv --spec examples/optimize-spec.json
  volfolio optimize --chain snapshot.csv.gz --book book.json --spec spec.json --json
  volfolio optimize --chain snapshot.csv --spec spec.json --frontier 8

Units: delta in coins, gamma as USD cash gamma per 1% move, vega USD per vol point, theta USD/day,
CVaR/stress/margin in USD. Margin uses a linear proxy (standalone Deribit standard margin per short).
Exit codes: 0 optimal, 1 infeasible/failed (diagnosis printed), 3 file missing.`,
  );
}
