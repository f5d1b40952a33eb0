/**
 * The demo's vol index and regime sections: Deribit's DVOL method on the loaded chain, and the
 * regime report (realized vol, GARCH, high-vol probability, forecast panel) on a daily history.
 */
import { loadPriceHistory } from "../../adapters/priceHistory.js";
import { normalizeChain } from "../../core/market/normalize.js";
import type { ChainSnapshot } from "../../core/market/types.js";
import { createRng } from "../../core/math/rng.js";
import type { OhlcBar } from "../../core/regime/realizedVol.js";
import { regimeReport } from "../../core/regime/report.js";
import { syntheticDailyBars } from "../../core/regime/syntheticBars.js";
import { DAY_MS } from "../../core/time.js";
import { dvolIndex } from "../../core/volindex/dvol.js";
import { type ForecastPanelOptions, forecastPanel } from "../forecastPanel.js";
import type { DemoReport } from "../report.js";
import { iso } from "./util.js";

type RegimeSection = NonNullable<DemoReport["regime"]>;
type DatedBar = OhlcBar & { date: string };

/** A price history older than this many days before the valuation date is flagged stale. */
export const STALE_HISTORY_DAYS = 3;

/** Offset of the synthetic price history's seed from the demo seed (no real history file). */
const HISTORY_SEED_OFFSET = 7;

/**
 * The 30-day index of the chain: Deribit's DVOL method (core/volindex/dvol.ts), the default of
 * `volfolio index` for Deribit chains, on the core market model's normalized chain.
 */
export function volIndexSection(chain: ChainSnapshot): NonNullable<DemoReport["volIndex"]> {
  const v = dvolIndex(normalizeChain(chain).snapshot);
  return {
    underlying: v.underlying,
    method: v.method,
    index: v.index,
    term: v.expiries.map((e) => ({ expiry: iso(e.expiry), vol: e.vol })),
  };
}

/** The daily bars the regime section is computed on, what they are, and staleness. */
export interface RegimeHistory {
  readonly bars: readonly DatedBar[];
  readonly source: string;
  readonly stale?: NonNullable<RegimeSection["stale"]>;
}

/** Price files merged by date (later files win), the days up to the valuation date. */
export async function priceFileHistory(files: readonly string[], valDay: string): Promise<RegimeHistory> {
  const byDate = new Map<string, DatedBar>();
  for (const f of files) for (const b of (await loadPriceHistory(f)).bars) byDate.set(b.date, b);
  const bars = [...byDate.values()]
    .filter((b) => b.date <= valDay)
    .sort((a, b) => a.date.localeCompare(b.date));
  if (bars.length < 30) throw new Error(`fewer than 30 daily prices up to ${valDay} in ${files.join(", ")}`);
  const last = bars.at(-1)?.date ?? "";
  const behind = Math.round((Date.parse(valDay) - Date.parse(last)) / DAY_MS);
  const source = `${files.map((f) => f.split("/").pop()).join(" + ")} (${bars.length} days, ${bars[0]?.date} to ${last})`;
  return {
    bars,
    source,
    ...(behind > STALE_HISTORY_DAYS
      ? { stale: { lastDate: last, valuationDate: valDay, daysBehind: behind } }
      : {}),
  };
}

/** On a fresh machine: a seeded synthetic history with calm/stressed vol regimes, labelled as such. */
export function syntheticHistory(o: { valuationTime: number; seed: number; missing: string }): RegimeHistory {
  const days = 1000;
  const seed = HISTORY_SEED_OFFSET + o.seed;
  const bars = syntheticDailyBars(
    { days, start: o.valuationTime - days * DAY_MS, spot: 100_000 },
    createRng(seed),
  ).bars;
  return {
    bars,
    source: `synthetic BTC history with calm/stressed vol regimes (seed ${seed}; no ${o.missing})`,
  };
}

/** The section shown while the regime report is computed on a stale history (and if it fails). */
export function staleRegimeSection(h: RegimeHistory): RegimeSection | undefined {
  return h.stale
    ? { source: h.source, dates: [], realizedVol: [], garchVol: [], highVolProbability: [], stale: h.stale }
    : undefined;
}

/** The regime section: realized vol, GARCH vol, high-vol probability and the forecast panel. */
export function regimeSection(
  h: RegimeHistory,
  o: { impliedVol?: number | undefined; forecast?: ForecastPanelOptions | false | undefined },
): RegimeSection {
  const r = regimeReport(h.bars, {
    lookback: 720,
    ...(o.impliedVol !== undefined ? { impliedVol: o.impliedVol } : {}),
  });
  const forecast = o.forecast === false ? null : forecastPanel(h.bars, o.forecast);
  return {
    source: h.source,
    ...(h.stale ? { stale: h.stale } : {}),
    dates: r.series.map((s) => s.date),
    realizedVol: r.series.map((s) => s.realizedVol),
    garchVol: r.series.map((s) => s.garchVol),
    highVolProbability: r.series.map((s) => s.highVolProbability),
    ...(forecast ? { forecast } : {}),
  };
}
