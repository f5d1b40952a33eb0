/**
 * `volfolio index` (model-free 30-day vol index of a chain, VIX/DVOL method) and
 * `volfolio regime` (realized vol, GARCH, HMM regimes and the short-vol signal of a price history).
 */
import type { Command } from "commander";
import { loadPriceHistory } from "../../adapters/priceHistory.js";
import { regimeReport } from "../../core/regime/report.js";
import { CliError, EXIT_USAGE, formatNumber, formatTable, output, parseNumberOption } from "../io.js";
import { registerRegimeForecast } from "./regimeForecast.js";
import { registerIndexCommand } from "./volindexChain.js";

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

export function register(program: Command): void {
  registerIndexCommand(program);

  const regime = program
    .command("regime")
    .description(
      "Realized vol (5 estimators), GARCH forecast term structure and HMM regime of a daily price history",
    )
    .option("--prices <file>", "daily OHLC CSV (Yahoo layout: Date,Open,High,Low,Close,Adj Close,Volume)")
    .option("--window <days>", "realized-vol window in days", "30")
    .option("--states <n>", "HMM states (2 or 3)", "2")
    .option("--model <garch|gjr>", "GARCH variant", "garch")
    .option("--lookback <days>", "use only the last N days")
    .option("--implied-vol <vol>", "current implied vol (decimal, e.g. 0.55) for the variance risk premium")
    .option("--json", "JSON output (includes the daily series)")
    .addHelpText(
      "after",
      `
Examples:
  volfolio regime --prices ../shared/data/prices/BTC-USD_daily.csv
  volfolio regime --prices btc.csv --states 3 --model gjr --lookback 1000 --implied-vol 0.52 --json`,
    )
    .action(async (o: Record<string, string | boolean | undefined>) => {
      if (!o.prices) throw new CliError("required option '--prices <file>' not specified", EXIT_USAGE);
      const model = String(o.model);
      if (model !== "garch" && model !== "gjr")
        throw new CliError(`--model must be garch or gjr, got "${model}"`, EXIT_USAGE);
      const history = await loadPriceHistory(String(o.prices));
      const report = regimeReport(history.bars, {
        window: parseNumberOption("window", String(o.window)),
        states: parseNumberOption("states", String(o.states)),
        garchModel: model,
        ...(o.lookback ? { lookback: parseNumberOption("lookback", String(o.lookback)) } : {}),
        ...(o.impliedVol ? { impliedVol: parseNumberOption("implied-vol", String(o.impliedVol)) } : {}),
      });
      const rejected = { count: history.rejected.length, rows: history.rejected.slice(0, 20) };
      output(
        Boolean(o.json),
        { ...report, input: { rowsRead: history.rowsRead, accepted: history.bars.length, rejected } },
        () => {
          const lines = [
            `as of ${report.asOf}: ${history.bars.length} bars accepted, ${history.rejected.length} rejected of ${history.rowsRead} rows`,
            ...history.rejected.slice(0, 5).map((r) => `  rejected line ${r.line}: ${r.reason}`),
            "",
            `realized vol (${report.window} days):`,
            formatTable(
              Object.entries(report.realizedVol).map(([estimator, v]) => ({ estimator, vol: pct(v) })),
            ),
            "",
            `${report.garch.model.toUpperCase()}: omega ${formatNumber(report.garch.omega)}  alpha ${formatNumber(report.garch.alpha)}  beta ${formatNumber(report.garch.beta)}  gamma ${formatNumber(report.garch.gamma)}  persistence ${formatNumber(report.garch.persistence)}  long-run vol ${pct(report.garch.longRunVol)}`,
            formatTable(
              report.garch.termStructure.map((p) => ({
                "horizon (days)": p.horizon,
                "forecast vol": pct(p.vol),
              })),
            ),
            "",
            `HMM (${report.hmm.states} states): state vols ${report.hmm.stateVols.map(pct).join(" / ")}; P(high-vol regime) now ${formatNumber(report.hmm.highVolProbability)}`,
            report.varianceRiskPremium
              ? `variance risk premium: ${formatNumber(report.varianceRiskPremium.variance)} (vol spread ${pct(report.varianceRiskPremium.volSpread)})`
              : "variance risk premium: pass --implied-vol to compute",
            `short-vol exposure scale: ${formatNumber(report.signal.scale)} (${report.signal.reason})`,
          ];
          return lines.join("\n");
        },
      );
    });
  registerRegimeForecast(regime);
}
