/**
 * `volfolio vault`: an option vault as depositors see it (core/vault): weekly rounds over the
 * daily Deribit season (--data) or the synthetic market (--synthetic), a share price, management
 * and performance fees with a high-water mark, deposits and withdrawals from a schedule file.
 */
import type { Command } from "commander";
import { loadVaultSchedule } from "../../adapters/vaultSchedule.js";
import type { BacktestStep } from "../../core/backtest/market.js";
import { type SyntheticMarketConfig, syntheticSteps } from "../../core/backtest/syntheticMarket.js";
import type { VaultFlow } from "../../core/vault/flows.js";
import { runVault, type VaultResult, type VaultSpec } from "../../core/vault/engine.js";
import type { VaultCollateral, VaultStrategyType } from "../../core/vault/strategy.js";
import { CliError, EXIT_USAGE, formatTable, output, parseNumberOption } from "../io.js";
import {
  addDataOptions,
  addSyntheticOptions,
  loadDataSteps,
  type StepMarketFlags,
  syntheticMarketBase,
  syntheticMarketFile,
  syntheticVol,
} from "../dataSteps.js";
import { progressBar, wantsProgress } from "../progress.js";

const day = (t: number) => new Date(t).toISOString().slice(0, 10);
const f = (x: number, d: number) => (Number.isFinite(x) ? x.toFixed(d) : "-");
const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(2)}%` : "-");

/** The per-round table (asset figures in the vault's asset; premium and settlement in coin). */
export function formatVault(r: VaultResult): string {
  const dp = r.asset === "USD" ? 2 : 6;
  const rows = r.epochs.map((e) => ({
    round: e.round,
    start: day(e.start),
    end: day(e.end),
    option: e.option ? e.option.instrument : (e.saleNote ?? "-"),
    qty: e.option ? f(e.option.quantity, 1) : "-",
    [`premium ${r.underlying}`]: f(e.premiumCoin, 5),
    [`settled ${r.underlying}`]: f(e.settlementCoin, 5),
    [`gross NAV ${r.asset}`]: f(e.grossNav, dp),
    "mgmt fee": f(e.managementFee, dp),
    "perf fee": f(e.performanceFee, dp),
    [`price ${r.asset}`]: f(e.sharePrice, 6),
    // The other unit: USD for a coin vault, the coin for a USDC vault.
    ...(r.asset === "USD"
      ? { [`price ${r.underlying}`]: f(e.sharePriceCoin, 8) }
      : { "price USD": f(e.sharePriceUsd, 2) }),
    HWM: f(e.highWaterMark, 6),
    APY: pct(e.apy),
    [`NAV ${r.asset}`]: f(e.nav, dp),
    shares: f(e.totalShares, 4),
    "in/out": `${e.deposits.length}/${e.withdrawals.length}`,
  }));
  const t = r.totals;
  const lines = [
    `${r.strategy} vault on ${r.underlying} (asset ${r.asset}, collateral ${r.collateral}): ${r.epochs.length} rounds of ${r.epochDays} days, |delta| ${r.targetDelta}, fees ${pct(r.fees.managementPerYear)}/yr management, ${pct(r.fees.performance)} performance above the HWM (paid in ${r.asset} out of NAV)`,
    formatTable(rows),
    "",
    `premium ${f(t.premiumCoin, 6)} ${r.underlying} (${f(t.premiumUsd, 0)} USD), settlements ${f(t.settlementCoin, 6)} ${r.underlying} (${f(t.settlementUsd, 0)} USD), exchange fees ${f(t.tradingFeesCoin, 6)} ${r.underlying}, slippage ${f(t.slippageCoin, 6)} ${r.underlying} (in the premium)`,
    `fees: management ${f(t.managementFees, dp)} ${r.asset}, performance ${f(t.performanceFees, dp)} ${r.asset}; deposited ${f(t.deposited, dp)}, withdrawn ${f(t.withdrawn, dp)} ${r.asset}`,
    `share price ${f(r.final.sharePrice, 6)} ${r.asset} (${r.asset === "USD" ? `${f(r.final.sharePriceCoin, 8)} ${r.underlying}` : `${f(r.final.sharePriceUsd, 2)} USD`}), HWM ${f(r.final.highWaterMark, 6)}, APY since inception ${pct(r.final.apySinceInception)}; NAV ${f(r.final.nav, dp)} ${r.asset} over ${f(r.final.totalShares, 6)} shares`,
  ];
  if (r.final.balances.length > 0) {
    lines.push("", "depositors:");
    lines.push(
      formatTable(
        r.final.balances.map((b) => ({
          depositor: b.depositor,
          shares: f(b.shares, 6),
          [`value ${r.asset}`]: f(b.value, dp),
          "value USD": f(b.valueUsd, 2),
        })),
      ),
    );
  }
  if (r.unusedSteps.before + r.unusedSteps.after > 0)
    lines.push(
      `steps not traded: ${r.unusedSteps.before} before the first boundary, ${r.unusedSteps.after} of an incomplete last round`,
    );
  if (r.pendingFlows.length > 0)
    lines.push(`${r.pendingFlows.length} request(s) after the last boundary not processed`);
  return lines.join("\n");
}

/** The options of `volfolio vault` as commander parses them (numbers are parsed by the command). */
export interface VaultCliOptions extends StepMarketFlags {
  readonly strategy: string;
  readonly collateral?: string;
  readonly delta?: string;
  readonly epochDays?: string;
  readonly anchor?: string;
  readonly managementFee?: string;
  readonly performanceFee?: string;
  readonly lot?: string;
  readonly conversionBps?: string;
  readonly schedule?: string;
  readonly progress?: boolean;
  readonly json?: boolean;
}

const num = (name: string, v: string | undefined, d: number): number =>
  v === undefined ? d : parseNumberOption(name, v);

/** A synthetic vault's default length: 26 weekly rounds. */
const SYNTHETIC_DAYS = 182;

export function register(program: Command): void {
  const cmd = program
    .command("vault")
    .description(
      "Run an option vault (weekly rounds, share price, fees with a high-water mark, deposits/withdrawals) over --data or --synthetic",
    );
  addDataOptions(cmd, { rangeSources: "--data" });
  cmd
    .option("--strategy <type>", "covered-call or put-selling", "covered-call")
    .option("--collateral <c>", "put-selling: usd (USDC, default) or coin")
    .option("--delta <d>", "|delta| of the option sold", "0.1")
    .option("--epoch-days <n>", "round length, days", "7")
    .option("--anchor <time>", "first round boundary (ISO instant); default the first Friday 08:00 UTC")
    .option("--management-fee <rate>", "management fee, decimal per year (0.02 = 2%)", "0.02")
    .option("--performance-fee <rate>", "performance fee on gains above the high-water mark, decimal", "0.1")
    .option("--lot <n>", "contracts per lot (default BTC 0.1, else 1)")
    .option("--conversion-bps <bp>", "USDC vault: cost of sweeping coin into USD each round, bp", "0")
    .option(
      "--schedule <file>",
      "deposit/withdraw schedule JSON (default: one deposit of 10 coins / 1,000,000 USD by 'depositor' before the first round)",
    );
  addSyntheticOptions(cmd, { days: SYNTHETIC_DAYS, volHelp: "GBM vol (decimal)" });
  cmd
    .option("--progress", "show a progress bar on stderr even when it is not a terminal")
    .option("--json", "JSON output")
    .addHelpText(
      "after",
      `
Examples:
  volfolio vault --synthetic --strategy covered-call --schedule examples/vaults/schedule-coin.json
  volfolio vault --data ../shared/data/deribit/daily --strategy put-selling --schedule examples/vaults/schedule-usd.json --json

Rounds start at Friday 08:00 UTC (Deribit's weekly expiry); a request is processed at the first boundary
at or after its time: deposits enter at the next round's share price, withdrawals are paid at the
round's end price. Fees are paid in the vault's asset out of NAV (the holders' shares never change).`,
    )
    .action((o: VaultCliOptions) => vaultCommand(o));
}

/** Parse -> runVault -> format. */
async function vaultCommand(o: VaultCliOptions): Promise<void> {
  if (o.data && o.synthetic) throw new CliError("use one of --data or --synthetic", EXIT_USAGE);
  const spec = vaultSpecFromOptions(o);
  const schedule: VaultFlow[] | null = o.schedule ? await loadVaultSchedule(o.schedule) : null;
  const show = wantsProgress(o);
  const { steps, total, input } = await vaultSteps(o, show);
  const flows = schedule ?? defaultFlows(spec);
  const bar = progressBar(show, "vault");
  bar.start(total);
  let r: VaultResult;
  try {
    r = runVault({ spec, steps, flows, onStep: (n) => bar.update(n) });
  } finally {
    bar.stop();
  }
  output(Boolean(o.json), { input, ...r }, () => formatVault(r));
}

function isStrategy(x: string): x is VaultStrategyType {
  return x === "covered-call" || x === "put-selling";
}

function isCollateral(x: string): x is VaultCollateral {
  return x === "usd" || x === "coin";
}

/** The vault spec from the flags; a bad strategy, collateral or anchor is a usage error naming the flag. */
function vaultSpecFromOptions(o: VaultCliOptions): VaultSpec {
  const strategy = o.strategy;
  if (!isStrategy(strategy))
    throw new CliError(
      `--strategy must be covered-call or put-selling, got ${JSON.stringify(strategy)}`,
      EXIT_USAGE,
    );
  const collateral = o.collateral;
  if (collateral !== undefined && !isCollateral(collateral))
    throw new CliError(`--collateral must be usd or coin, got ${JSON.stringify(collateral)}`, EXIT_USAGE);
  let anchor: number | undefined;
  if (o.anchor !== undefined) {
    anchor = Date.parse(o.anchor);
    if (!Number.isFinite(anchor))
      throw new CliError(`--anchor must be an ISO instant, got ${JSON.stringify(o.anchor)}`, EXIT_USAGE);
  }
  return {
    strategy,
    ...(collateral ? { collateral } : {}),
    targetDelta: num("delta", o.delta, 0.1),
    epochDays: num("epoch-days", o.epochDays, 7),
    ...(anchor !== undefined ? { anchor } : {}),
    fees: {
      managementPerYear: num("management-fee", o.managementFee, 0.02),
      performance: num("performance-fee", o.performanceFee, 0.1),
    },
    ...(o.lot !== undefined ? { lot: num("lot", o.lot, 0.1) } : {}),
    conversionBps: num("conversion-bps", o.conversionBps, 0),
  };
}

/** Default schedule: one depositor before the first round (anchored on the first step's time). */
function defaultFlows(spec: VaultSpec): VaultFlow[] {
  const amount = spec.strategy === "put-selling" && (spec.collateral ?? "usd") === "usd" ? 1_000_000 : 10;
  return [{ time: 0, depositor: "depositor", type: "deposit", amount }];
}

/** The market steps: the daily Deribit files (--data) or the synthetic market. */
async function vaultSteps(
  o: VaultCliOptions,
  show: boolean,
): Promise<{ steps: Iterable<BacktestStep>; total: number; input: Record<string, unknown> }> {
  if (o.data) {
    const d = await loadDataSteps({
      dir: o.data,
      underlying: o.underlying,
      ...(o.from ? { from: o.from } : {}),
      ...(o.to ? { to: o.to } : {}),
      progress: show,
    });
    return {
      steps: d.steps,
      total: d.steps.length,
      input: {
        source: "data",
        dir: o.data,
        files: d.files,
        steps: d.steps.length,
        skippedFiles: d.skippedFiles.length,
      },
    };
  }
  const market: SyntheticMarketConfig = o.market
    ? await syntheticMarketFile(o.market)
    : {
        ...syntheticMarketBase(o, SYNTHETIC_DAYS),
        model: { type: "gbm", drift: 0, vol: syntheticVol(o) },
      };
  return { steps: syntheticSteps(market), total: market.steps + 1, input: { source: "synthetic", market } };
}
