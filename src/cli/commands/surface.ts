/**
 * `volfolio surface fit`: Deribit chain file -> clean quotes (market normalizer) -> surface fit
 * (svi-af, the default / svi / ssvi / essvi) -> fit report per expiry, arbitrage report, term
 * structure, rich/cheap. --repair (svi) gives the svi-af fit: the old parameter-space repair took
 * seconds per chain; the constrained fit reaches the same guarantee in milliseconds (issue 21).
 */
import { existsSync } from "node:fs";
import type { Command } from "commander";
import type { DeribitFileResult } from "../../adapters/deribit/files.js";
import type { ChainSnapshot } from "../../core/market/types.js";
import { loadDeribitCsvFile } from "../../adapters/deribit/files.js";
import { normalizeChain } from "../../core/market/normalize.js";
import {
  calibrateSurfaceFromQuotes,
  DEFAULT_SURFACE_MODEL,
  SURFACE_MODELS,
  type SurfaceFit,
  type SurfaceModel,
} from "../../core/surface/calibrate.js";
import { surfaceTermStructure } from "../../core/surface/queries.js";
import { richCheapList } from "../../core/surface/richCheap.js";
import type { SurfaceWeighting } from "../../core/surface/sliceData.js";
import {
  CliError,
  EXIT_FAILURE,
  EXIT_UNAVAILABLE,
  EXIT_USAGE,
  formatTable,
  output,
  parseNumberOption,
} from "../io.js";

const MODELS: readonly SurfaceModel[] = SURFACE_MODELS;
const WEIGHTINGS: readonly SurfaceWeighting[] = ["spread", "vega", "uniform"];

interface FitFlags {
  chain: string;
  model: string;
  underlying?: string;
  weighting: string;
  repair?: boolean;
  richCheap: string;
  json?: boolean;
}

const pct = (x: number | null | undefined, digits = 2) =>
  x === null || x === undefined || !Number.isFinite(x) ? null : Number((100 * x).toFixed(digits));
const round = (x: number, digits = 6) => (Number.isFinite(x) ? Number(x.toPrecision(digits)) : x);

const FIT_HELP = `
Examples:
  volfolio surface fit --chain ../shared/data/deribit/sample_BTC_ETH_chain_20260110T091409Z.csv --underlying BTC
  volfolio surface fit --chain snapshot.csv.gz --json
  volfolio surface fit --chain snapshot.csv.gz --model svi     (unconstrained; warns where it holds arbitrage)
  volfolio surface fit --chain snapshot.csv.gz --model essvi --json

The default model svi-af is free of static arbitrage on each expiry's served range (its quoted k-range
widened to at least |k| <= 1.5 on each side) and between expiries (calendar-free at every k); the
arbitrage line checks those ranges.

Units: vols in % in the table (decimal in --json), rr25/bf25 = 25-delta risk reversal / butterfly,
raw SVI parameters in total-variance units (w = vol^2 T), premium differences in the quote
currency (coin for Deribit inverse options) and in USD per coin of underlying.`;

export function register(program: Command): void {
  const surface = program
    .command("surface")
    .description("Implied-volatility surfaces: fit, arbitrage checks, rich/cheap");
  const fit = surface
    .command("fit")
    .description("Fit a volatility surface to a Deribit option-chain snapshot (CSV or CSV.gz)")
    .requiredOption("--chain <file>", "Deribit chain snapshot file (columns as in ../shared/data/README.md)")
    .option(
      "--model <model>",
      `surface model: ${MODELS.join(" | ")} (svi-af: SVI with the no-arbitrage constraints, the default; svi: unconstrained, may hold arbitrage, for comparison)`,
      DEFAULT_SURFACE_MODEL,
    )
    .option(
      "--underlying <coin>",
      "fit only this underlying (e.g. BTC); default: every underlying in the file",
    )
    .option("--weighting <w>", `residual weights: ${WEIGHTINGS.join(" | ")}`, "spread")
    .option(
      "--repair",
      "svi: refit the slices with the no-arbitrage constraints (gives the svi-af fit; the default needs no repair)",
    )
    .option("--rich-cheap <n>", "number of rich/cheap quotes to list", "10")
    .option("--json", "JSON output")
    .action(runFit);
  fit.addHelpText("after", FIT_HELP);
}

/** The checked model, weighting and rich/cheap count of the flags (usage errors name the flag). */
interface FitSettings {
  readonly model: SurfaceModel;
  readonly weighting: SurfaceWeighting;
  readonly topN: number;
  readonly repair: boolean;
}

function fitSettings(flags: FitFlags): FitSettings {
  if (!MODELS.includes(flags.model as SurfaceModel))
    throw new CliError(`--model must be one of ${MODELS.join(", ")}, got "${flags.model}"`, EXIT_USAGE);
  if (!WEIGHTINGS.includes(flags.weighting as SurfaceWeighting))
    throw new CliError(
      `--weighting must be one of ${WEIGHTINGS.join(", ")}, got "${flags.weighting}"`,
      EXIT_USAGE,
    );
  const topN = parseNumberOption("rich-cheap", flags.richCheap);
  if (!Number.isInteger(topN) || topN < 0)
    throw new CliError("--rich-cheap must be an integer >= 0", EXIT_USAGE);
  return {
    model: flags.model as SurfaceModel,
    weighting: flags.weighting as SurfaceWeighting,
    topN,
    repair: flags.repair === true,
  };
}

/** The file and its chains to fit (the --underlying one, or all); a clear error when there is none. */
async function loadFitChains(flags: FitFlags): Promise<{ file: DeribitFileResult; chains: ChainSnapshot[] }> {
  if (!existsSync(flags.chain)) throw new CliError(`chain file not found: ${flags.chain}`, EXIT_UNAVAILABLE);
  const file = await loadDeribitCsvFile(flags.chain);
  const chains = flags.underlying
    ? file.chains.filter((c) => c.underlying.toUpperCase() === flags.underlying?.toUpperCase())
    : file.chains;
  if (chains.length === 0)
    throw new CliError(
      flags.underlying
        ? `no ${flags.underlying} options in ${flags.chain} (found: ${file.chains.map((c) => c.underlying).join(", ") || "none"})`
        : `no option chain in ${flags.chain} (${file.rejected.length} of ${file.rowsRead} rows rejected)`,
      EXIT_FAILURE,
    );
  return { file, chains };
}

async function runFit(flags: FitFlags): Promise<void> {
  const settings = fitSettings(flags);
  const { file, chains } = await loadFitChains(flags);
  const results = chains.map((chain) => chainFitResult(chain, file, settings));
  output(flags.json, results.length === 1 ? results[0] : results, () =>
    results.map((r) => formatFitResult(r, flags.repair === true)).join("\n\n"),
  );
}

type FitResult = ReturnType<typeof chainFitResult>;

/** Normalizes and fits one chain; the result printed (full precision in --json). */
function chainFitResult(chain: ChainSnapshot, file: DeribitFileResult, settings: FitSettings) {
  const { model, weighting, topN, repair } = settings;
  const norm = normalizeChain(chain);
  const res = calibrateSurfaceFromQuotes(norm.snapshot.quotes, { model, weighting, repair });
  if (!res.fit.ok)
    throw new CliError(`${chain.underlying}: surface fit failed (${res.fit.reason}): ${res.fit.message}`);
  const f = res.fit.value;
  const rejectedByReason: Record<string, number> = {};
  for (const r of res.rejected) rejectedByReason[r.reason] = (rejectedByReason[r.reason] ?? 0) + 1;
  return {
    underlying: chain.underlying,
    valuationTime: new Date(chain.valuationTime).toISOString(),
    model: f.model,
    weighting,
    counts: {
      fileRows: file.rowsRead,
      fileRowsRejected: file.rejected.length,
      chainQuotes: norm.counts.input,
      cleanQuotes: norm.counts.accepted,
      cleaningRejected: norm.counts.rejected,
      fitted: res.accepted,
      surfaceRejected: res.rejected.length,
      surfaceRejectedByReason: rejectedByReason,
    },
    ssvi: f.ssvi,
    slices: sliceRows(f),
    arbitrage: {
      free: f.arbitrage.free,
      butterflyFree: f.arbitrage.butterflyFree,
      calendarFree: f.arbitrage.calendarFree,
      verticalSpreadFree: f.arbitrage.verticalSpreadFree,
      butterfly: f.arbitrage.butterfly.filter((b) => !b.free || b.verticalSpreadPoints > 0),
      calendar: f.arbitrage.calendar.filter((c) => !c.free),
    },
    richCheap: richCheapList(f.surface, f.data).slice(0, topN),
    warnings: f.warnings,
  };
}

/** One row per fitted expiry with its term-structure figures. */
function sliceRows(f: SurfaceFit) {
  const term = surfaceTermStructure(f.surface);
  return f.slices.map((s, i) => ({
    expiry: s.expiryTime !== null ? new Date(s.expiryTime).toISOString() : null,
    // Full precision in --json (issue 18: JSON numbers are never rounded); the table rounds.
    timeToExpiry: s.expiry,
    forwardUsd: s.forward,
    quotes: s.quoteCount,
    rmseVolPts: s.rmseVolPts,
    maxAbsErrorVolPts: s.maxAbsErrorVolPts,
    bandDistanceRmsVolPts: s.bandDistanceRmsVolPts,
    insideBandShare: s.insideBandShare,
    atmVol: s.atmVol,
    riskReversal25: term[i]?.riskReversal25 ?? Number.NaN,
    butterfly25: term[i]?.butterfly25 ?? Number.NaN,
    rawSvi: s.rawSvi,
    essvi: s.essvi,
    converged: s.converged,
    degraded: s.degraded,
    repaired: s.repaired,
  }));
}

/** The text report of one chain's fit: counts, SSVI parameters, slice table, arbitrage, rich/cheap, warnings. */
function formatFitResult(r: FitResult, repair: boolean): string {
  const lines: string[] = [];
  lines.push(
    `${r.underlying} ${r.model} surface at ${r.valuationTime}: ${r.counts.fitted} quotes fitted of ${r.counts.chainQuotes} (cleaning rejected ${r.counts.cleaningRejected}, surface rejected ${r.counts.surfaceRejected}: ${
      Object.entries(r.counts.surfaceRejectedByReason)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ") || "none"
    })`,
  );
  if (r.ssvi)
    lines.push(
      `SSVI power law: rho ${round(r.ssvi.rho, 4)}, eta ${round(r.ssvi.eta, 4)}, gamma ${round(r.ssvi.gamma, 4)}`,
    );
  lines.push(sliceTable(r));
  lines.push(
    `arbitrage: butterfly ${r.arbitrage.butterflyFree ? "free" : `FOUND in ${r.arbitrage.butterfly.length} slice(s)`}, calendar ${
      r.arbitrage.calendarFree ? "free" : `FOUND between ${r.arbitrage.calendar.length} pair(s)`
    }, vertical spreads ${
      r.arbitrage.verticalSpreadFree
        ? "free"
        : `FOUND in ${r.arbitrage.butterfly.filter((b) => b.verticalSpreadPoints > 0).length} slice(s)`
    }${r.arbitrage.free || r.model !== "svi" || repair ? "" : " (try --model svi-af)"}`,
  );
  if (r.richCheap.length > 0) {
    lines.push(`rich/cheap vs fit (top ${r.richCheap.length} by |vol diff|):`);
    lines.push(richCheapTable(r));
  }
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join("\n");
}

function sliceTable(r: FitResult): string {
  return formatTable(
    r.slices.map((s) => ({
      expiry: s.expiry?.slice(0, 10) ?? "",
      T: round(s.timeToExpiry),
      forwardUsd: round(s.forwardUsd, 8),
      quotes: s.quotes,
      "rmse(pts)": round(s.rmseVolPts, 4),
      "band(pts)": round(s.bandDistanceRmsVolPts, 4),
      "inBand%": pct(s.insideBandShare, 1),
      "atm%": pct(s.atmVol),
      "rr25%": pct(s.riskReversal25),
      "bf25%": pct(s.butterfly25),
      a: round(s.rawSvi.a, 4),
      b: round(s.rawSvi.b, 4),
      rho: round(s.rawSvi.rho, 4),
      m: round(s.rawSvi.m, 4),
      sigma: round(s.rawSvi.sigma, 4),
      note: s.degraded ? "degraded" : s.repaired ? "repaired" : "",
    })),
  );
}

function richCheapTable(r: FitResult): string {
  return formatTable(
    r.richCheap.map((e) => ({
      instrument: e.name,
      signal: e.signal,
      "bid%": pct(e.bidVol),
      "ask%": pct(e.askVol),
      "fit%": pct(e.fittedVol),
      "diff(pts)": round(e.volDiffPts, 4),
      premiumDiff: e.premiumDiffQuote === null ? null : round(e.premiumDiffQuote, 4),
      ccy: e.quoteCurrency === "coin" ? r.underlying : e.quoteCurrency,
      premiumDiffUsd: e.premiumDiffUsd === null ? null : round(e.premiumDiffUsd, 4),
    })),
  );
}
