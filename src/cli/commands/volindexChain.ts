/**
 * `volfolio index [--chain FILE]`: the model-free constant-maturity vol index of an option chain,
 * by Deribit's DVOL method (default, core/volindex/dvol.ts) or the plain Cboe VIX method
 * (`--method cboe`), and its term structure; `--compare-dvol FILE` sets it against Deribit's
 * published DVOL at the chain's time of day.
 *
 * Pipeline: chain file -> loadChainFile (format from the content) -> normalizeChain (cleaning:
 * stale, crossed, out-of-bounds quotes dropped; forward per expiry) -> dvolIndex on the normalized
 * snapshot, or volIndexFromChain on the cleaned quotes -> table or JSON. Without --chain, a seeded
 * synthetic chain (said so in the output).
 *
 * Decisions:
 * - The default method is dvol: every chain this command reads is a Deribit chain (Deribit CSV or
 *   JSON, Tardis' Deribit options_chain, the Deribit-like synthetic chain).
 * - Forward per expiry: dvol uses DVOL's synthetic from the two-sided mids (core dvol.ts rule 1,
 *   shown as "synthetic-mids"), else normalizeChain's forward (the marks' parity forward). cboe: the venue's (dated future, else the
 *   quote's underlying price); `--parity` uses the VIX put-call parity forward instead (cboe only).
 *   An expiry whose only forward is the index falls back to parity.
 * - --compare-dvol FILE, daily bars (Date,Open,High,Low,Close): DVOL at the chain's time is
 *   open + (close - open) x hour/24 of that UTC day's bar (core dvolAtTime, the issue's line);
 *   hourly bars (Deribit's API rows as JSON [[ms,o,h,l,c]], or CSV with a timestamp column; core
 *   dvolHourly.ts): DVOL at the chain's instant inside its hour. The file is for the coin in its
 *   name (DVOL_BTC_daily.csv -> BTC); a name without a coin needs a single underlying.
 * - Several underlyings in one file (BTC and ETH): every underlying is reported unless --currency
 *   picks one; if any requested underlying cannot bracket the horizon, the command fails (exit 1)
 *   naming it, so pass --currency to get the others.
 * - A horizon outside the listed expiries is an error (exit 1), never an extrapolation; with
 *   --term, horizons the chain cannot bracket are listed as such (the command still succeeds).
 */
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { loadChainFile } from "../../adapters/chainFile.js";
import { formatDeribitExpiry } from "../../core/instruments/names.js";
import { normalizeChain } from "../../core/market/normalize.js";
import { syntheticChain } from "../../core/market/synthetic.js";
import type { ChainSnapshot } from "../../core/market/types.js";
import { dvolIndex } from "../../core/volindex/dvol.js";
import {
  type DvolHourBar,
  dvolAtInstant,
  hourBarMap,
  isHourlyDvolText,
  parseDvolHourly,
} from "../../core/volindex/dvolHourly.js";
import { type DvolBar, dvolAtTime, parseDvolCsv } from "../../core/volindex/series.js";
import {
  type ExpiryVariancePoint,
  type VolIndexResult,
  volIndexFromChain,
  volIndexTermStructure,
} from "../../core/volindex/volIndex.js";
import {
  CliError,
  EXIT_FAILURE,
  EXIT_UNAVAILABLE,
  EXIT_USAGE,
  formatTable,
  output,
  parseNumberOption,
} from "../io.js";

const YEAR_DAYS = 365;
const TERM_DAYS = [7, 14, 30, 60, 90, 180] as const;
/** Valuation time of the built-in synthetic chain (fixed, so the output is reproducible). */
const SYNTHETIC_TIME = Date.UTC(2026, 0, 10, 9, 0, 0);

interface IndexFlags {
  chain?: string;
  days: string;
  term?: boolean;
  currency?: string;
  parity?: boolean;
  method: string;
  compareDvol?: string;
  seed: string;
  json?: boolean;
}

const r = (x: number, digits = 4) => Number(x.toFixed(digits));
const days = (timeToExpiry: number) => timeToExpiry * YEAR_DAYS;

function expiryRow(p: ExpiryVariancePoint, weight: number, forwardSource: string) {
  return {
    expiry: formatDeribitExpiry(p.expiry),
    expiryIso: new Date(p.expiry).toISOString(),
    days: r(days(p.timeToExpiry)),
    weight: r(weight, 6),
    forwardUsd: r(p.forward, 2),
    forwardSource,
    k0: p.k0,
    strikesUsed: p.contributions.length,
    strikesExcluded: p.excluded,
    volPts: r(100 * p.vol),
  };
}

function cannotBracket(
  underlying: string,
  targetDays: number,
  points: readonly ExpiryVariancePoint[],
): string {
  const first = points[0];
  const last = points[points.length - 1];
  const span =
    first && last
      ? `${days(first.timeToExpiry).toFixed(2)} to ${days(last.timeToExpiry).toFixed(2)} days`
      : "none";
  return `${underlying}: cannot bracket ${targetDays} days: usable expiries span ${span}`;
}

/** Index, bracketing expiries and (optionally) the term structure of one chain. */
function indexOfChain(
  chain: ChainSnapshot,
  targetDays: number,
  term: boolean,
  parity: boolean,
  method: "dvol" | "cboe",
) {
  const norm = normalizeChain(chain);
  const snap = norm.snapshot;
  const sourceByExpiry = new Map(snap.forwards.map((f) => [f.expiry, f.source as string]));
  const forwards = new Map<number, number>();
  if (method === "dvol" || !parity)
    for (const f of snap.forwards)
      if (method === "dvol" || f.source !== "index") forwards.set(f.expiry, f.forward);
  const cleaned: ChainSnapshot = {
    underlying: snap.underlying,
    valuationTime: snap.valuationTime,
    indexPrice: snap.indexPrice,
    quotes: snap.quotes,
  };
  let res: VolIndexResult;
  let markFilled = 0;
  try {
    if (method === "dvol") {
      const d = dvolIndex(snap, { targetDays });
      markFilled = d.near.markFilled + d.next.markFilled;
      res = d;
    } else res = volIndexFromChain(cleaned, { targetDays, forwards });
  } catch (e) {
    throw new CliError(`${chain.underlying}: ${(e as Error).message}`, EXIT_FAILURE);
  }
  if (!res.bracketed)
    throw new CliError(cannotBracket(chain.underlying, targetDays, res.expiries), EXIT_FAILURE);
  const w1 = res.nearWeight;
  // dvol: the expiry's synthetic from the two-sided mids (DVOL's rule 1) unless it fell back to the chain's.
  const src = (p: ExpiryVariancePoint) =>
    method === "dvol" && p.forward !== forwards.get(p.expiry)
      ? "synthetic-mids"
      : forwards.has(p.expiry)
        ? (sourceByExpiry.get(p.expiry) ?? "venue")
        : "put-call-parity";
  const termStructure = term ? termPoints(res.expiries) : null;
  return {
    underlying: res.underlying,
    method,
    valuationTime: new Date(res.valuationTime).toISOString(),
    valuationTimeMs: res.valuationTime,
    targetDays,
    index: r(res.index),
    indexFull: res.index,
    markFilled,
    near: expiryRow(res.near, w1, src(res.near)),
    next: expiryRow(res.next, 1 - w1, src(res.next)),
    strikesUsed: res.near.contributions.length + res.next.contributions.length,
    quotes: { input: norm.counts.input, accepted: norm.counts.accepted, rejected: norm.counts.rejected },
    expiriesUsable: res.expiries.length,
    expiriesFailed: res.failures.map((f) => ({
      expiry: formatDeribitExpiry(f.expiry),
      reason: f.reason,
      message: f.message,
    })),
    termStructure,
  };
}

/** Term structure at TERM_DAYS (core volIndexTermStructure): a value only where two listed expiries bracket the horizon. */
function termPoints(points: readonly ExpiryVariancePoint[]) {
  const first = points[0];
  const last = points[points.length - 1];
  return volIndexTermStructure(points, TERM_DAYS).map((p) => {
    if (!p.bracketed) {
      const why =
        first && p.days / YEAR_DAYS < first.timeToExpiry
          ? `before the first usable expiry (${days(first.timeToExpiry).toFixed(2)} days)`
          : `after the last usable expiry (${last ? days(last.timeToExpiry).toFixed(2) : "?"} days)`;
      return { days: p.days, index: null, near: null, next: null, unavailable: why };
    }
    return {
      days: p.days,
      index: r(p.index),
      near: formatDeribitExpiry(p.near),
      next: formatDeribitExpiry(p.next),
      unavailable: null,
    };
  });
}

type IndexReport = ReturnType<typeof indexOfChain> & { compareDvol?: DvolComparison | null };

/** The bars of a --compare-dvol file: daily (the issue's line) or hourly (DVOL at the instant). */
type DvolFileBars =
  | { readonly resolution: "daily"; readonly bars: readonly DvolBar[] }
  | { readonly resolution: "hourly"; readonly bars: readonly DvolHourBar[] };

interface DvolComparison {
  readonly file: string;
  readonly resolution: "daily" | "hourly";
  readonly date: string;
  /** Hours after 00:00 UTC of `date` (daily) or after the hourly bar's start (hourly). */
  readonly hourUtc: number;
  readonly bar: DvolBar | (DvolHourBar & { readonly startTime: string });
  readonly dvol: number;
  readonly diff: number;
  /** Daily bars only: whether the index is inside DVOL's low-high range that day. */
  readonly insideDailyRange?: boolean;
}

/** The DVOL comparison of one report (null when the file has no bar for that time). */
function compareWithDvol(
  rep: ReturnType<typeof indexOfChain>,
  file: string,
  dvol: DvolFileBars,
): DvolComparison | null {
  const t = rep.valuationTimeMs;
  if (dvol.resolution === "hourly") {
    const at = dvolAtInstant(hourBarMap(dvol.bars), t);
    if (!at) return null;
    const startTime = new Date(at.bar.start).toISOString();
    return {
      file,
      resolution: "hourly",
      date: startTime.slice(0, 10),
      hourUtc: r((t - at.bar.start) / 3_600_000, 4),
      bar: { ...at.bar, startTime },
      dvol: r(at.value),
      diff: r(rep.indexFull - at.value),
    };
  }
  const aligned = dvolAtTime(new Map(dvol.bars.map((b) => [b.date, b])), t);
  if (!aligned) return null;
  const date = aligned.bar.date;
  return {
    file,
    resolution: "daily",
    date,
    hourUtc: r((t - Date.parse(`${date}T00:00:00Z`)) / 3_600_000, 4),
    bar: aligned.bar,
    dvol: r(aligned.value),
    diff: r(rep.indexFull - aligned.value),
    insideDailyRange: rep.indexFull >= aligned.bar.low && rep.indexFull <= aligned.bar.high,
  };
}

/** The text line of a DVOL comparison. */
function comparisonLine(c: DvolComparison): string {
  const diff = `index - DVOL = ${c.diff >= 0 ? "+" : ""}${c.diff.toFixed(2)} vol points`;
  if (!("date" in c.bar)) {
    const b = c.bar;
    return `  DVOL (${c.file}) at the chain's instant, ${c.hourUtc.toFixed(2)} h into its hourly bar from ${b.startTime} (open ${(b.open ?? Number.NaN).toFixed(2)}, close ${b.close.toFixed(2)}): ${c.dvol.toFixed(2)}; ${diff}`;
  }
  const b = c.bar;
  return `  DVOL (${c.file}) at ${c.hourUtc.toFixed(2)} h UTC of ${c.date}: ${c.dvol.toFixed(2)} (open ${b.open.toFixed(2)}, close ${b.close.toFixed(2)}, range ${b.low.toFixed(2)}-${b.high.toFixed(2)}); ${diff}${c.insideDailyRange ? " (inside DVOL's range that day)" : " (outside DVOL's range that day)"}`;
}

function reportText(source: string, rep: IndexReport): string {
  const lines = [
    `${rep.underlying} ${rep.targetDays}-day vol index at ${rep.valuationTime} (${source}, ${rep.method} method): ${rep.index.toFixed(2)} vol points`,
    `  ${rep.quotes.accepted} of ${rep.quotes.input} quotes accepted after cleaning; ${rep.expiriesUsable} expiries usable, ${rep.expiriesFailed.length} not; ${rep.strikesUsed} strikes in the two strips${rep.markFilled ? `; ${rep.markFilled} near-the-money options without a two-sided quote priced at their mark` : ""}`,
    formatTable(
      [rep.near, rep.next].map((e, i) => ({
        "": i === 0 ? "near" : "next",
        expiry: e.expiry,
        days: e.days,
        weight: e.weight,
        forwardUsd: e.forwardUsd,
        forwardSource: e.forwardSource,
        K0: e.k0,
        strikes: e.strikesUsed,
        excluded: e.strikesExcluded,
        "vol(pts)": e.volPts,
      })),
    ),
  ];
  if (rep.compareDvol !== undefined) {
    const c = rep.compareDvol;
    lines.push(c ? comparisonLine(c) : `  DVOL: no bar in the --compare-dvol file for ${rep.valuationTime}`);
  }
  if (rep.termStructure) {
    lines.push(
      "",
      "term structure:",
      formatTable(
        rep.termStructure.map((p) => ({
          days: p.days,
          "index(pts)": p.index,
          between: p.near ? `${p.near} / ${p.next}` : `cannot bracket: ${p.unavailable}`,
        })),
      ),
    );
  }
  return lines.join("\n");
}

/** --days, --method, --parity and --currency checked (a usage error names the flag and value). */
function parseIndexFlags(flags: IndexFlags): { targetDays: number; method: "dvol" | "cboe"; want?: string } {
  const targetDays = parseNumberOption("days", flags.days);
  if (!(targetDays > 0) || targetDays > 3650)
    throw new CliError(`--days must be a number of days in (0, 3650], got "${flags.days}"`, EXIT_USAGE);
  const method = String(flags.method ?? "dvol").toLowerCase();
  if (method !== "dvol" && method !== "cboe")
    throw new CliError(`--method must be dvol or cboe, got "${flags.method}"`, EXIT_USAGE);
  if (flags.parity && method !== "cboe")
    throw new CliError(
      "--parity applies to --method cboe only (DVOL takes the expiry's synthetic forward)",
      EXIT_USAGE,
    );
  const want = flags.currency?.toUpperCase();
  return want ? { targetDays, method, want } : { targetDays, method };
}

/** The chains of --chain (filtered by --currency), or the seeded synthetic chain. */
async function loadIndexChains(
  flags: IndexFlags,
  want: string | undefined,
): Promise<{ chains: ChainSnapshot[]; source: string }> {
  if (flags.chain) {
    const loaded = await loadChainFile(flags.chain);
    const chains = want ? loaded.chains.filter((c) => c.underlying === want) : loaded.chains;
    if (chains.length === 0)
      throw new CliError(
        want
          ? `no ${want} options in ${flags.chain} (found: ${loaded.chains.map((c) => c.underlying).join(", ") || "none"})`
          : `no option chain in ${flags.chain} (${loaded.rejected.length} of ${loaded.rowsRead} rows rejected)`,
        EXIT_FAILURE,
      );
    return { chains, source: flags.chain };
  }
  const seed = parseNumberOption("seed", flags.seed);
  if (!Number.isInteger(seed))
    throw new CliError(`--seed must be an integer, got "${flags.seed}"`, EXIT_USAGE);
  const coins = want ? [want] : ["BTC", "ETH"];
  const chains = coins.map((underlying, i) =>
    syntheticChain({ underlying, valuationTime: SYNTHETIC_TIME, seed: seed * 7919 + i }),
  );
  return { chains, source: `SYNTHETIC chain, seed ${seed}` };
}

/** --compare-dvol FILE: its bars and the coin its name gives (checked against the chains). */
async function loadCompareDvol(
  file: string,
  chains: readonly ChainSnapshot[],
): Promise<{ bars: DvolFileBars; coin: string | null }> {
  const text = await readFile(file, "utf8").catch((e: unknown) => {
    const err = e as NodeJS.ErrnoException;
    if (err.code === "ENOENT")
      throw new CliError(`--compare-dvol: cannot read ${file}: no such file`, EXIT_UNAVAILABLE);
    throw new CliError(`--compare-dvol ${file}: ${err.message}`, EXIT_USAGE);
  });
  let bars: DvolFileBars;
  try {
    bars = isHourlyDvolText(text)
      ? { resolution: "hourly", bars: parseDvolHourly(text) }
      : { resolution: "daily", bars: parseDvolCsv(text) };
  } catch (e) {
    throw new CliError(`--compare-dvol ${file}: ${(e as Error).message}`, EXIT_USAGE);
  }
  const named = /(?:^|[^A-Z])(BTC|ETH|SOL|XRP)(?:[^A-Z]|$)/i.exec(file.split("/").pop() ?? "");
  const coin = named?.[1]?.toUpperCase() ?? null;
  if (!coin && chains.length > 1)
    throw new CliError(
      `--compare-dvol ${file}: the file name names no coin and the chain has ${chains.length} underlyings; pass --currency`,
      EXIT_USAGE,
    );
  if (coin && !chains.some((c) => c.underlying === coin))
    throw new CliError(
      `--compare-dvol ${file} is for ${coin}, not in the chain (${chains.map((c) => c.underlying).join(", ")})`,
      EXIT_USAGE,
    );
  return { bars, coin };
}

export function registerIndexCommand(program: Command): void {
  program
    .command("index")
    .description(
      "Model-free 30-day vol index of an option chain (Deribit's DVOL method, or the plain Cboe VIX method), its term structure and its comparison with DVOL",
    )
    .option(
      "--chain <file>",
      "chain file (Deribit CSV/.csv.gz, Tardis CSV, Deribit JSON); default: a seeded synthetic chain",
    )
    .option("--days <n>", "constant maturity, days", "30")
    .option(
      "--term",
      `also the term structure at ${TERM_DAYS.join("/")} days (where the chain brackets them)`,
    )
    .option("--currency <coin>", "only this underlying (e.g. BTC); default: every underlying in the file")
    .option(
      "--method <dvol|cboe>",
      "index method: Deribit's DVOL rules, or the plain Cboe VIX method",
      "dvol",
    )
    .option("--parity", "cboe only: forward from put-call parity (VIX) instead of the venue's forward")
    .option(
      "--compare-dvol <file>",
      "DVOL bars: daily (Date,Open,High,Low,Close, e.g. ../shared/data/prices/DVOL_BTC_daily.csv; DVOL on the open-to-close line at the chain's hour) or hourly (Deribit API rows as JSON [[ms,o,h,l,c]], or CSV timestamp,open,high,low,close; DVOL at the chain's instant): print it and the difference",
    )
    .option("--seed <n>", "seed of the synthetic chain (without --chain)", "1")
    .option("--json", "JSON output")
    .addHelpText(
      "after",
      `
Index in vol points (55.2 = 55.2%): sigma^2 = (2/T) sum dK/K^2 Q(K) - (1/T)(F/K0 - 1)^2 per expiry on the
cleaned quotes (coin prices converted to USD), the two expiries bracketing the horizon interpolated in total
variance T sigma^2 (weight = each expiry's linear interpolation weight, Cboe step 3).
--method dvol (default): Deribit's DVOL rules (core/volindex/dvol.ts, each cited): forward = the expiry's
synthetic from the two-sided mids (else normalizeChain's), mid of two-sided quotes, no two-zero-bids stop, wings below 0.05 |delta|
dropped, eligible expiries only (>= 8 strikes, strip reaching 0.25 delta), near-the-money holes priced at
the mark. --method cboe: the plain VIX method (two consecutive zero bids end a wing; forward: the venue's,
or --parity). A horizon the eligible expiries cannot bracket fails (exit 1), never extrapolated. A file with
several underlyings reports each unless --currency.
JSON: { source, synthetic, method, results: [ { underlying, method, index, near, next, termStructure,
compareDvol, ... } ] }.

Examples:
  volfolio index --chain ../shared/data/deribit/sample_BTC_ETH_chain_20260110T091409Z.csv --currency BTC
  volfolio index --chain /tmp/btc_chain.csv --term
  volfolio index --chain snapshot.csv.gz --days 60 --method cboe --parity --json
  volfolio index --chain ../shared/data/deribit/daily/deribit_options_snapshot_20260113T092145Z.csv.gz \
    --currency BTC --compare-dvol ../shared/data/prices/DVOL_BTC_daily.csv
  volfolio index --term          # built-in synthetic chain (seeded), BTC and ETH`,
    )
    .action(async (flags: IndexFlags) => {
      const { targetDays, method, want } = parseIndexFlags(flags);
      const { chains, source } = await loadIndexChains(flags, want);
      const { bars: dvolBars, coin: dvolCoin } = flags.compareDvol
        ? await loadCompareDvol(flags.compareDvol, chains)
        : { bars: null, coin: null };
      const results: IndexReport[] = chains.map((c) => {
        const rep = indexOfChain(c, targetDays, Boolean(flags.term), Boolean(flags.parity), method);
        if (!dvolBars || (dvolCoin && rep.underlying !== dvolCoin)) return rep;
        return { ...rep, compareDvol: compareWithDvol(rep, flags.compareDvol as string, dvolBars) };
      });
      output(flags.json, { source, synthetic: !flags.chain, method, results }, () =>
        [
          ...(flags.chain ? [] : ["SYNTHETIC chain (no --chain given): seeded model data, not a market"]),
          ...results.map((rep) => reportText(source, rep)),
        ].join("\n\n"),
      );
    });
}
