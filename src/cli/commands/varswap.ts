/**
 * `volfolio varswap --chain FILE [--currency BTC] [--tenor-days 30] [--future-expiry DATE] [--json]`:
 * the variance swap fair strike of a chain by static replication (core/volindex/varianceSwap.ts:
 * the DVOL-method strip + discrete-strike + wing corrections from the fitted surface) and the fair
 * value of a DVOL future (core/volindex/volIndexFuture.ts) for one expiry.
 *
 * Decisions:
 * - The chain goes through normalizeChain (the one market model) and every figure comes from core.
 * - Vol of variance for the future's convexity: --vol-of-var (and --mean-reversion), or estimated from
 *   --dvol-history (the last 365 daily closes up to the chain's date, no look-ahead), else the default
 *   1.8 with no mean reversion (the BTC DVOL 2021-2026 estimate, volOfVarianceFromIndex; an upper
 *   estimate of the adjustment), said so in the output.
 * - The future expiry: --future-expiry (YYYY-MM-DD or Deribit's 27FEB26, at 08:00 UTC) or
 *   --future-days (default 30).
 * - A tenor the chain's eligible expiries cannot bracket is computed (total variance extrapolated) and
 *   flagged "extrapolated", not refused: a swap's tenor is the user's, not the listing's.
 */
import type { Command } from "commander";
import { loadChainFile } from "../../adapters/chainFile.js";
import { formatDeribitExpiry, parseDeribitExpiry } from "../../core/instruments/names.js";
import { normalizeChain } from "../../core/market/normalize.js";
import { replicationSurface, varianceSwapStrike } from "../../core/volindex/varianceSwap.js";
import {
  DVOL_FUTURE_DEFAULTS,
  meanReversionFromIndex,
  volIndexFutureValue,
  volOfVarianceFromIndex,
} from "../../core/volindex/volIndexFuture.js";
import { DAY_MS } from "../../core/time.js";
import { CliError, EXIT_FAILURE, EXIT_USAGE, formatTable, output, parseNumberOption } from "../io.js";
import { loadDvolBars } from "./volindexSeries.js";

/** Default vol of ln(variance): BTC DVOL daily closes 2021-03 to 2026 (volOfVarianceFromIndex = 1.79). */
const DEFAULT_VOL_OF_VAR = 1.8;

interface VarswapFlags {
  chain?: string;
  currency?: string;
  tenorDays: string;
  futureExpiry?: string;
  futureDays: string;
  volOfVar?: string;
  meanReversion?: string;
  dvolHistory?: string;
  json?: boolean;
}

const r = (x: number, digits = 4) => Number(x.toFixed(digits));
/** Variance (decimal^2) in variance points (vol points squared). */
const pts2 = (x: number | null) => (x === null ? null : r(1e4 * x, 2));

function parseExpiry(text: string): number {
  const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (iso) return Date.UTC(Number(iso[1]), Number(iso[2]) - 1, Number(iso[3]), 8);
  const d = parseDeribitExpiry(text.toUpperCase());
  if (d === null)
    throw new CliError(
      `--future-expiry must be YYYY-MM-DD or a Deribit expiry like 27FEB26, got "${text}"`,
      EXIT_USAGE,
    );
  return d;
}

/** The command's options, parsed and checked (exit 2 naming the flag). */
interface VarswapOptions {
  readonly chain: string;
  readonly currency: string | undefined;
  readonly tenorDays: number;
  readonly futureDays: number;
  readonly futureExpiry: string | undefined;
  readonly volOfVar: number | null;
  readonly meanReversion: number | null;
  readonly dvolHistory: string | undefined;
  readonly json: boolean | undefined;
}

function parseVarswapOptions(flags: VarswapFlags): VarswapOptions {
  if (!flags.chain) throw new CliError("required option '--chain <file>' not specified", EXIT_USAGE);
  const tenorDays = parseNumberOption("tenor-days", flags.tenorDays);
  if (!(tenorDays > 0) || tenorDays > 3650)
    throw new CliError(`--tenor-days must be in (0, 3650], got "${flags.tenorDays}"`, EXIT_USAGE);
  const futureDays = parseNumberOption("future-days", flags.futureDays);
  if (!(futureDays > 0))
    throw new CliError(`--future-days must be > 0, got "${flags.futureDays}"`, EXIT_USAGE);
  const volOfVar = flags.volOfVar === undefined ? null : parseNumberOption("vol-of-var", flags.volOfVar);
  if (volOfVar !== null && !(volOfVar >= 0 && volOfVar <= 10))
    throw new CliError(`--vol-of-var must be in [0, 10], got "${flags.volOfVar}"`, EXIT_USAGE);
  const meanReversion =
    flags.meanReversion === undefined ? null : parseNumberOption("mean-reversion", flags.meanReversion);
  if (meanReversion !== null && !(meanReversion >= 0))
    throw new CliError(`--mean-reversion must be >= 0, got "${flags.meanReversion}"`, EXIT_USAGE);
  return {
    chain: flags.chain,
    currency: flags.currency,
    tenorDays,
    futureDays,
    futureExpiry: flags.futureExpiry,
    volOfVar,
    meanReversion,
    dvolHistory: flags.dvolHistory,
    json: flags.json,
  };
}

/** The one chain of the file (--currency picks it when there are several), normalized. */
async function loadSnapshot(o: VarswapOptions) {
  const loaded = await loadChainFile(o.chain);
  const want = o.currency?.toUpperCase();
  const chains = want ? loaded.chains.filter((c) => c.underlying === want) : loaded.chains;
  const [chain, ...more] = chains;
  if (!chain)
    throw new CliError(
      `${o.chain}: no ${want ?? ""} chain (underlyings: ${loaded.chains.map((c) => c.underlying).join(", ") || "none"})`,
      EXIT_FAILURE,
    );
  if (more.length > 0)
    throw new CliError(
      `${o.chain} has ${chains.map((c) => c.underlying).join(", ")}: pass --currency`,
      EXIT_USAGE,
    );
  return normalizeChain(chain).snapshot;
}

/**
 * Vol of variance and mean reversion of the DVOL future: the flags, else estimated from the DVOL
 * history's 365 closes before the chain's day, else the default; with where they come from.
 */
async function varianceDynamics(o: VarswapOptions, valuationTime: number) {
  if (o.dvolHistory) {
    const day = new Date(valuationTime).toISOString().slice(0, 10);
    const closes = (await loadDvolBars(o.dvolHistory)).filter((b) => b.date < day).map((b) => b.close);
    if (closes.length < 30)
      throw new CliError(`${o.dvolHistory}: ${closes.length} closes before ${day}, need 30`, EXIT_FAILURE);
    return {
      volOfVar: o.volOfVar ?? volOfVarianceFromIndex(closes, 365),
      meanReversion: o.meanReversion ?? meanReversionFromIndex(closes, 365),
      source: `${o.dvolHistory} (${Math.min(closes.length - 1, 365)} daily changes before ${day})`,
    };
  }
  if (o.volOfVar === null)
    return {
      volOfVar: DEFAULT_VOL_OF_VAR,
      meanReversion: o.meanReversion,
      source: "default (BTC DVOL 2021-2026 estimate; pass --vol-of-var or --dvol-history)",
    };
  return { volOfVar: o.volOfVar, meanReversion: o.meanReversion, source: "--vol-of-var" };
}

type VarianceSwapResult = ReturnType<typeof varianceSwapStrike>;
type VolFutureResult = ReturnType<typeof volIndexFutureValue>;

/** One bracketing expiry's row: strip, corrections and wings in variance points. */
const expiryRow = (e: VarianceSwapResult["near"], weight: number) => ({
  expiry: formatDeribitExpiry(e.expiry),
  days: r(e.timeToExpiry * 365, 2),
  weight: r(weight, 4),
  forwardUsd: r(e.forward, 2),
  strikes: e.strikes,
  stripRange: `${e.firstStrike}-${e.lastStrike}`,
  listedRange: `${e.listedFirstStrike}-${e.listedLastStrike}`,
  stripVar: pts2(e.stripVariance),
  k0Term: pts2(e.k0Term),
  discrete: pts2(e.discreteCorrection),
  putWing: pts2(e.putWing),
  callWing: pts2(e.callWing),
  beyondQuotes: pts2(e.wingBeyondQuotes),
  beyondQuotesSvi: pts2(e.wingBeyondQuotesSvi),
  callWingBound: pts2(e.callWingBound),
  fairVar: pts2(e.fairVariance),
});

/** The command's report (JSON and the text's figures). */
function varswapReport(
  o: VarswapOptions,
  snapshot: { underlying: string; valuationTime: number },
  swap: VarianceSwapResult,
  issue: string | null,
  future: VolFutureResult,
  v: { meanReversion: number | null; source: string },
) {
  return {
    underlying: snapshot.underlying,
    valuationTime: new Date(snapshot.valuationTime).toISOString(),
    chain: o.chain,
    tenorDays: o.tenorDays,
    units: "variance points = vol points squared (1e4 x decimal variance); strikes in vol points",
    swap: {
      strikeVolPoints: r(swap.strikeVolPoints),
      stripVolPoints: r(100 * Math.sqrt(Math.max(swap.stripVariance, 0))),
      fairVariance: pts2(swap.fairVariance),
      stripVariance: pts2(swap.stripVariance),
      discreteCorrection: pts2(swap.discreteCorrection),
      wingCorrection: pts2(swap.wingCorrection),
      wingBeyondQuotes: pts2(swap.wingBeyondQuotes),
      wingBeyondQuotesSvi: pts2(swap.wingBeyondQuotesSvi),
      callWingBound: pts2(swap.callWingBound),
      bracketed: swap.bracketed,
      surfaceIssue: issue,
      near: expiryRow(swap.near, swap.nearWeight),
      next: expiryRow(swap.next, 1 - swap.nearWeight),
    },
    dvolFuture: {
      expiry: new Date(future.expiry).toISOString(),
      days: r(future.timeToExpiry * 365, 2),
      forwardVariance: pts2(future.forwardVariance),
      forwardVolPoints: r(future.forwardVolPoints),
      volOfVariance: r(future.volOfVariance),
      meanReversion: r(v.meanReversion ?? 0),
      volOfVarianceSource: v.source,
      convexityAdjustment: r(future.convexityAdjustment),
      secondOrderAdjustment: r(future.secondOrderAdjustment),
      fairValue: r(future.fairValue),
      fairValueTick: r(future.fairValueTicks, 2),
      tickSize: DVOL_FUTURE_DEFAULTS.tickSize,
      contractSizeUsdPerPoint: future.contractSizeUsdPerPoint,
      bracketed: future.bracketed,
    },
  };
}

/** The text output of the report. */
function varswapText(report: ReturnType<typeof varswapReport>): string {
  const s = report.swap;
  const f = report.dvolFuture;
  return [
    `${report.underlying} ${report.tenorDays}-day variance swap at ${report.valuationTime}: fair strike ${s.strikeVolPoints.toFixed(2)} vol points (variance ${s.fairVariance} pts^2)${s.bracketed ? "" : " [extrapolated: tenor outside the eligible expiries]"}`,
    `  strip (DVOL-method, = index^2 at 30 days) ${s.stripVariance} (${s.stripVolPoints.toFixed(2)} pts)  discrete correction ${s.discreteCorrection ?? "n/a"}  wing correction ${s.wingCorrection ?? "n/a"}${s.surfaceIssue ? `  (${s.surfaceIssue})` : ""}`,
    `  of the wing, beyond the listed strikes: ${s.wingBeyondQuotes ?? "n/a"} (vol flat beyond them; SVI-extrapolated high estimate ${s.wingBeyondQuotesSvi ?? "n/a"}); call-wing model-free bound ${s.callWingBound}`,
    formatTable([
      { "": "near", ...s.near },
      { "": "next", ...s.next },
    ]),
    "",
    `DVOL future expiring ${f.expiry} (${f.days} days): fair ${f.fairValue.toFixed(2)} (tick ${f.fairValueTick}) = forward vol ${f.forwardVolPoints.toFixed(2)} - convexity ${f.convexityAdjustment.toFixed(2)} (second-order term ${f.secondOrderAdjustment.toFixed(2)})${f.bracketed ? "" : " [extrapolated]"}`,
    `  vol of ln(variance) ${f.volOfVariance}, mean reversion ${f.meanReversion}/yr: ${f.volOfVarianceSource}`,
  ].join("\n");
}

/** `volfolio varswap`: the fair variance strike and the DVOL future's fair value of a chain. */
async function runVarswap(flags: VarswapFlags): Promise<void> {
  const o = parseVarswapOptions(flags);
  const snapshot = await loadSnapshot(o);
  const v = await varianceDynamics(o, snapshot.valuationTime);
  const futureExpiry = o.futureExpiry
    ? parseExpiry(o.futureExpiry)
    : snapshot.valuationTime + o.futureDays * DAY_MS;
  if (!(futureExpiry > snapshot.valuationTime))
    throw new CliError(
      `--future-expiry ${o.futureExpiry} is not after the chain's time ${new Date(snapshot.valuationTime).toISOString()}`,
      EXIT_USAGE,
    );
  const { surface, issue } = replicationSurface(snapshot, { tenorDays: o.tenorDays });
  const swap = varianceSwapStrike(snapshot, { tenorDays: o.tenorDays, surface });
  const future = volIndexFutureValue(snapshot, {
    expiry: futureExpiry,
    volOfVariance: v.volOfVar,
    meanReversion: v.meanReversion ?? 0,
    surface,
  });
  const report = varswapReport(o, snapshot, swap, issue, future, v);
  output(o.json, report, () => varswapText(report));
}

export function register(program: Command): void {
  program
    .command("varswap")
    .description(
      "Variance swap fair strike of a chain by static replication (discrete-strike and wing corrections) and a DVOL future's fair value",
    )
    .option("--chain <file>", "chain file (Deribit CSV/.csv.gz, Tardis CSV, Deribit JSON)")
    .option("--currency <coin>", "underlying (e.g. BTC); required when the file has several")
    .option("--tenor-days <n>", "swap tenor in calendar days", "30")
    .option("--future-expiry <date>", "DVOL future expiry: YYYY-MM-DD or 27FEB26 (08:00 UTC)")
    .option("--future-days <n>", "DVOL future expiry in days from the chain (without --future-expiry)", "30")
    .option("--vol-of-var <x>", "annualized vol of ln(variance) for the convexity adjustment (e.g. 1.8)")
    .option("--mean-reversion <k>", "mean-reversion speed of ln(variance) per year (default 0)")
    .option(
      "--dvol-history <file>",
      "DVOL daily bars (Date,Open,High,Low,Close): estimate vol of variance and mean reversion from the 365 closes before the chain",
    )
    .option("--json", "JSON output")
    .addHelpText(
      "after",
      `
Fair variance (Demeterfi-Derman-Kamal-Zou 1999) = strip + discrete correction + wing correction, in
variance points (vol points squared; strike in vol points = sqrt). Strip: the DVOL-method strip of the
two expiries bracketing the tenor (= the squared index at 30 days). Discrete: exact integral of the fitted
surface (svi-af) over the strip's strikes minus the midpoint strip on the surface. Wing: the surface beyond
the strip's strikes, vol held flat beyond the listed strikes (Jiang-Tian); the SVI extrapolation there is
shown as the high end of the model range.
DVOL future: F = 100 sqrt(forward 30-day variance at expiry) x exp(-omega^2 tau / 8) (lognormal variance;
the second-order term Var(V)/(8 E[V]^1.5) shown for comparison).

Examples:
  volfolio varswap --chain ../shared/data/deribit/daily/deribit_options_snapshot_20260110T091409Z.csv.gz --currency BTC
  volfolio varswap --chain chain.csv.gz --currency ETH --tenor-days 60 --future-expiry 27FEB26 --vol-of-var 1.5
  volfolio varswap --chain chain.csv.gz --currency BTC --dvol-history ../shared/data/prices/DVOL_BTC_daily.csv --json`,
    )
    .action(runVarswap);
}
