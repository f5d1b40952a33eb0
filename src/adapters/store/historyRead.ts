/**
 * Reading the columnar chain history of a DuckDB store (ingest.ts, historyLayout.ts):
 *  - `historyInfo`: days, chains, rows, files, rejects by reason;
 *  - `loadHistoryChains`: the stored chains of one underlying as ChainSnapshots, in time order,
 *    equal to what the Deribit file loader gives for the same files (a test checks it), with the
 *    stored perpetual price added to `futures` when asked (`withPerpetual`);
 *  - `historySnapshots`: the same as an async iterator, one chain at a time (a replay source for
 *    the agent, src/agent/feeds.ts, which would wrap it as its file feed);
 *  - `historyDeliveryPrices`: the venue's delivery price by expiry.
 * Read column-wise (no per-row JSON): numbers straight from DuckDB's vectors, text columns as
 * indices into per-query dictionaries (one JS string per distinct instrument, file, underlying
 * name): the 233-day season of one coin (186k quotes) loads in about 1 s of CPU.
 */
import { parseInstrumentName } from "../../core/instruments/names.js";
import type { OptionContract } from "../../core/instruments/types.js";
import type { ChainSnapshot, FutureQuote, OptionQuote } from "../../core/market/types.js";
import type { DuckDbSnapshotStore } from "./duckdb.js";
import { sqlStr } from "./historyLayout.js";

export interface HistoryQuery {
  readonly underlying: string;
  /** Inclusive bounds, epoch ms UTC. */
  readonly from?: number;
  readonly to?: number;
  /**
   * Add the stored perpetual (`<COIN>-PERPETUAL`, expiry null) to each chain's futures when a
   * perpetual price was stored within `perpetualToleranceMs` of the chain's time (default 5 min).
   */
  readonly withPerpetual?: boolean;
  readonly perpetualToleranceMs?: number;
}

export interface HistoryChains {
  readonly chains: ChainSnapshot[];
  /** Chains that got a stored perpetual price. */
  readonly withPerpetual: number;
}

const COIN = /^[A-Z0-9_]{1,20}$/;

function coin(u: string): string {
  if (!COIN.test(u))
    throw new RangeError(`underlying must be an upper-case coin code, got ${JSON.stringify(u)}`);
  return u;
}

function where(q: HistoryQuery, timeCol = "valuation_time"): string {
  const w = [`underlying = ${sqlStr(coin(q.underlying))}`];
  if (q.from !== undefined) w.push(`${timeCol} >= ${Math.floor(q.from)}`);
  if (q.to !== undefined) w.push(`${timeCol} <= ${Math.floor(q.to)}`);
  return w.join(" AND ");
}

async function columns(store: DuckDbSnapshotStore, sql: string): Promise<Record<string, unknown[]>> {
  const r = await store.connection.runAndReadAll(sql);
  return r.getColumnsObjectJS() as Record<string, unknown[]>;
}

/**
 * The columns of a numeric result (DOUBLE, INTEGER, BOOLEAN) as Float64Arrays, NULL as NaN (stored
 * values are finite): read from DuckDB's vectors directly, without a JS value per cell.
 */
async function numericColumns(
  store: DuckDbSnapshotStore,
  sql: string,
): Promise<Record<string, Float64Array>> {
  const result = await store.connection.run(sql);
  const names = result.columnNames();
  const chunks = await result.fetchAllChunks();
  const sizes = chunks.map((c) => c.rowCount); // a native call each: read once
  const n = sizes.reduce((sum, x) => sum + x, 0);
  const cols = names.map(() => new Float64Array(n));
  let off = 0;
  for (const [c, chunk] of chunks.entries()) {
    const rowCount = sizes[c] ?? 0;
    for (const [j, out] of cols.entries()) {
      const v = chunk.getColumnVector(j);
      for (let i = 0; i < rowCount; i++) {
        const x = v.getItem(i);
        out[off + i] = x === null ? Number.NaN : Number(x);
      }
    }
    off += rowCount;
  }
  return Object.fromEntries(names.map((c, j) => [c, cols[j] ?? new Float64Array(0)]));
}

/** A stored number of a numeric column (NaN = NULL). */
const cell = (col: Float64Array | undefined, k: number): number | null => {
  const x = col?.[k];
  return x === undefined || Number.isNaN(x) ? null : x;
};

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** Text columns of the quotes read as dictionary indices (one JS string per distinct value, not per row). */
const DICT_COLUMNS = ["src", "instrument", "underlying_name"] as const;
type DictColumn = (typeof DICT_COLUMNS)[number];

/** The stored quote columns of `q` in chain order, text columns as indices into `dicts`. */
async function quoteColumns(
  store: DuckDbSnapshotStore,
  q: HistoryQuery,
): Promise<{ cols: Record<string, Float64Array>; dicts: Record<DictColumn, string[]> }> {
  const w = where(q);
  const distinct = (c: DictColumn) =>
    `SELECT DISTINCT '${c}' AS k, ${c} AS v FROM h_quotes WHERE ${w} AND ${c} IS NOT NULL`;
  const d = await columns(store, `${DICT_COLUMNS.map(distinct).join(" UNION ALL ")} ORDER BY k, v`);
  const dicts: Record<DictColumn, string[]> = { src: [], instrument: [], underlying_name: [] };
  for (const [i, k] of ((d.k ?? []) as string[]).entries()) dicts[k as DictColumn].push(String(d.v?.[i]));
  const withs = DICT_COLUMNS.map(
    (c) =>
      `d_${c} AS (SELECT ${c}, (row_number() OVER (ORDER BY ${c}) - 1)::INTEGER AS i_${c} FROM (SELECT DISTINCT ${c} FROM h_quotes WHERE ${w} AND ${c} IS NOT NULL))`,
  );
  // Deribit rows have no sizes or side IVs: NULL columns, read as NaN
  const cols = await numericColumns(
    store,
    `WITH ${withs.join(", ")} SELECT i_src, i_instrument, i_underlying_name, ts::DOUBLE AS ts, bid, ask, mark, mark_iv,
       underlying_price, open_interest, volume, bid_size, ask_size, bid_iv, ask_iv, coalesce(tardis, false) AS tardis
     FROM h_quotes q JOIN d_src USING (src) JOIN d_instrument USING (instrument) LEFT JOIN d_underlying_name USING (underlying_name)
     WHERE ${w} ORDER BY valuation_time, src, line`,
  );
  return { cols, dicts };
}

/** The quote of row `k` of the quote columns, in the shape its file loader builds (Deribit or Tardis). */
function quoteAt(
  qc: Record<string, Float64Array>,
  k: number,
  instrument: OptionContract,
  underlyingName: string | null,
): OptionQuote {
  // object literals, not spreads: 186k quotes a season
  if (qc.tardis?.[k] === 1)
    return {
      instrument,
      timestamp: Number(qc.ts?.[k]),
      bid: cell(qc.bid, k),
      ask: cell(qc.ask, k),
      mark: cell(qc.mark, k),
      bidSize: cell(qc.bid_size, k),
      askSize: cell(qc.ask_size, k),
      bidIv: cell(qc.bid_iv, k),
      askIv: cell(qc.ask_iv, k),
      markIv: cell(qc.mark_iv, k),
      underlyingPrice: cell(qc.underlying_price, k),
      underlyingName,
      openInterest: cell(qc.open_interest, k),
    };
  return {
    instrument,
    timestamp: Number(qc.ts?.[k]),
    bid: cell(qc.bid, k),
    ask: cell(qc.ask, k),
    mark: cell(qc.mark, k),
    markIv: cell(qc.mark_iv, k),
    underlyingPrice: cell(qc.underlying_price, k),
    underlyingName,
    openInterest: cell(qc.open_interest, k),
    volume: cell(qc.volume, k),
  };
}

/** The stored option contract of a name (parsed by the core parser). */
function storedInstrument(name: string): OptionContract {
  const r = parseInstrumentName(name);
  if (!r.ok) throw new Error(`store: stored instrument ${name} does not parse: ${r.message}`);
  if (r.value.type !== "option") throw new Error(`store: stored instrument ${name} is not an option`);
  return r.value;
}

/** The stored quotes of `q` by source file, in line order. */
async function quotesBySource(
  store: DuckDbSnapshotStore,
  q: HistoryQuery,
): Promise<Map<string, OptionQuote[]>> {
  const { cols, dicts } = await quoteColumns(store, q);
  const instruments = dicts.instrument.map(storedInstrument);
  const out = new Map<string, OptionQuote[]>();
  const n = cols.i_src?.length ?? 0;
  for (let k = 0; k < n; k++) {
    const src = dicts.src[cell(cols.i_src, k) ?? -1] ?? "";
    let list = out.get(src);
    if (!list) {
      list = [];
      out.set(src, list);
    }
    const instrument = instruments[cell(cols.i_instrument, k) ?? -1];
    if (!instrument) throw new Error("store: a stored quote without its instrument");
    const u = cell(cols.i_underlying_name, k);
    const underlyingName = u === null ? null : (dicts.underlying_name[u] ?? null);
    list.push(quoteAt(cols, k, instrument, underlyingName));
  }
  return out;
}

/** The stored futures of `q` by source file. */
async function futuresBySource(
  store: DuckDbSnapshotStore,
  q: HistoryQuery,
): Promise<Map<string, FutureQuote[]>> {
  const fc = await columns(
    store,
    `SELECT src, name, expiry::DOUBLE AS expiry, ts::DOUBLE AS ts, mark FROM h_futures WHERE ${where(q)} ORDER BY valuation_time, src, expiry NULLS FIRST, name`,
  );
  const out = new Map<string, FutureQuote[]>();
  for (const [k, s] of ((fc.src ?? []) as string[]).entries()) {
    const list = out.get(s) ?? [];
    list.push({
      name: String(fc.name?.[k]),
      underlying: q.underlying,
      expiry: num(fc.expiry?.[k]),
      timestamp: Number(fc.ts?.[k]),
      mark: Number(fc.mark?.[k]),
    });
    out.set(s, list);
  }
  return out;
}

/** The stored chains of `q.underlying` in time order (see the module comment). */
export async function loadHistoryChains(store: DuckDbSnapshotStore, q: HistoryQuery): Promise<HistoryChains> {
  const heads = await columns(
    store,
    `SELECT src, valuation_time::DOUBLE AS t, index_price FROM h_chains WHERE ${where(q)} ORDER BY valuation_time, src`,
  );
  const quotesBySrc = await quotesBySource(store, q);
  const futBySrc = await futuresBySource(store, q);
  const times = (heads.t ?? []) as number[];
  const perps = q.withPerpetual
    ? await perpetualPrices(store, q, times, q.perpetualToleranceMs ?? 300_000)
    : [];
  let withPerpetual = 0;
  const chains = ((heads.src ?? []) as string[]).map((s, k): ChainSnapshot => {
    const futures = [...(futBySrc.get(s) ?? [])];
    const perp = perps[k];
    if (perp) {
      futures.unshift(perp);
      withPerpetual++;
    }
    const quotes = quotesBySrc.get(s) ?? [];
    const chain = {
      underlying: q.underlying,
      valuationTime: Number(times[k]),
      indexPrice: Number(heads.index_price?.[k]),
      quotes,
    };
    // a Tardis chain has no futures list (its loader gives none) unless a perpetual was added
    const tardis = quotes[0] !== undefined && "bidSize" in quotes[0];
    return tardis && futures.length === 0 ? chain : { ...chain, futures };
  });
  return { chains, withPerpetual };
}

/** The stored perpetual price nearest each time within `tol` ms, or null. */
async function perpetualPrices(
  store: DuckDbSnapshotStore,
  q: HistoryQuery,
  times: readonly number[],
  tol: number,
): Promise<(FutureQuote | null)[]> {
  const pc = await columns(
    store,
    `SELECT time::DOUBLE AS time, name, price, bid, ask FROM h_perpetuals WHERE ${where(
      {
        underlying: q.underlying,
        ...(q.from !== undefined ? { from: q.from - tol } : {}),
        ...(q.to !== undefined ? { to: q.to + tol } : {}),
      },
      "time",
    )} ORDER BY time`,
  );
  const pt = (pc.time ?? []) as number[];
  let j = 0;
  return times.map((t) => {
    while (j + 1 < pt.length && Math.abs((pt[j + 1] as number) - t) <= Math.abs((pt[j] as number) - t)) j++;
    if (pt.length === 0 || Math.abs((pt[j] as number) - t) > tol) return null;
    return {
      name: pc.name?.[j] as string,
      underlying: q.underlying,
      expiry: null,
      timestamp: pt[j] as number,
      mark: Number(pc.price?.[j]),
      bid: num(pc.bid?.[j]),
      ask: num(pc.ask?.[j]),
    };
  });
}

/** The venue's delivery prices of `underlying` (expiry epoch ms -> USD). */
export async function historyDeliveryPrices(
  store: DuckDbSnapshotStore,
  underlying: string,
): Promise<Map<number, number>> {
  const c = await columns(
    store,
    `SELECT expiry::DOUBLE AS expiry, last(price ORDER BY src) AS price FROM h_delivery WHERE underlying = ${sqlStr(coin(underlying))} GROUP BY expiry`,
  );
  const out = new Map<number, number>();
  for (const [k, e] of ((c.expiry ?? []) as number[]).entries()) out.set(e, Number(c.price?.[k]));
  return out;
}

/** The stored chain times of `q.underlying` (epoch ms), ascending, distinct: a replay's ticks. */
export async function historyChainTimes(store: DuckDbSnapshotStore, q: HistoryQuery): Promise<number[]> {
  const c = await columns(
    store,
    `SELECT DISTINCT valuation_time::DOUBLE AS t FROM h_chains WHERE ${where(q)} ORDER BY t`,
  );
  return ((c.t ?? []) as number[]).map(Number);
}

/**
 * The stored chains as a replay source, one chain at a time in time order (day by day, so memory
 * holds one day of quotes). For the agent's file replay: each yielded chain is what
 * loadDeribitCsvFile gives for that snapshot file.
 */
export async function* historySnapshots(
  store: DuckDbSnapshotStore,
  q: HistoryQuery,
): AsyncGenerator<ChainSnapshot> {
  const days = await columns(
    store,
    `SELECT DISTINCT (valuation_time // 86400000)::DOUBLE AS d FROM h_chains WHERE ${where(q)} ORDER BY d`,
  );
  for (const d of (days.d ?? []) as number[]) {
    const from = Math.max(d * 86_400_000, q.from ?? Number.NEGATIVE_INFINITY);
    const to = Math.min((d + 1) * 86_400_000 - 1, q.to ?? Number.POSITIVE_INFINITY);
    const { chains } = await loadHistoryChains(store, { ...q, from, to });
    yield* chains;
  }
}

export interface HistoryInfo {
  readonly files: number;
  /** Distinct UTC days with a stored chain. */
  readonly days: number;
  readonly first: number | null;
  readonly last: number | null;
  readonly chains: readonly {
    readonly underlying: string;
    readonly chains: number;
    readonly quotes: number;
  }[];
  readonly rowsRead: number;
  readonly accepted: number;
  /** Tardis updates replaced by a later one of the same symbol. */
  readonly superseded: number;
  readonly rejected: number;
  readonly rejectsByReason: Readonly<Record<string, number>>;
  readonly perpetualPrices: number;
  readonly deliveryPrices: number;
  /** Files by format. */
  readonly formats: Readonly<Record<string, number>>;
}

/** What the store holds (`volfolio store info`). */
export async function historyInfo(store: DuckDbSnapshotStore): Promise<HistoryInfo> {
  const one = async (sql: string) => (await store.query(sql))[0] ?? {};
  const files = await one(
    "SELECT count(*) AS files, coalesce(sum(rows_read), 0) AS rows_read, coalesce(sum(accepted), 0) AS accepted, coalesce(sum(rejected), 0) AS rejected, coalesce(sum(superseded), 0) AS superseded FROM history_files",
  );
  const span = await one(
    "SELECT count(DISTINCT valuation_time // 86400000) AS days, min(valuation_time) AS first, max(valuation_time) AS last FROM h_chains",
  );
  const chains = await store.query(
    "SELECT underlying, count(*) AS chains, sum(quotes) AS quotes FROM h_chains GROUP BY underlying ORDER BY underlying",
  );
  const rejects = await store.query(
    "SELECT reason, count(*) AS n FROM h_rejects GROUP BY reason ORDER BY n DESC, reason",
  );
  const formats = await store.query(
    "SELECT format, count(*) AS n FROM history_files GROUP BY format ORDER BY format",
  );
  const perp = await one("SELECT count(*) AS n FROM h_perpetuals");
  const deliv = await one("SELECT count(*) AS n FROM h_delivery");
  return {
    files: Number(files.files ?? 0),
    days: Number(span.days ?? 0),
    first: span.first === null || span.first === undefined ? null : Number(span.first),
    last: span.last === null || span.last === undefined ? null : Number(span.last),
    chains: chains.map((c) => ({
      underlying: String(c.underlying),
      chains: Number(c.chains),
      quotes: Number(c.quotes),
    })),
    rowsRead: Number(files.rows_read ?? 0),
    accepted: Number(files.accepted ?? 0),
    superseded: Number(files.superseded ?? 0),
    rejected: Number(files.rejected ?? 0),
    rejectsByReason: Object.fromEntries(rejects.map((r) => [String(r.reason), Number(r.n)])),
    perpetualPrices: Number(perp.n ?? 0),
    deliveryPrices: Number(deliv.n ?? 0),
    formats: Object.fromEntries(formats.map((r) => [String(r.format), Number(r.n)])),
  };
}
