/**
 * The columnar history store (src/adapters/store/ingest.ts, historyRead.ts) against the Deribit
 * file loader (src/adapters/deribit/files.ts), which is the reference: the same rejects (line,
 * reason, detail) and the same chains, file by file; accepted + rejected = rows read per file.
 * Numbers are compared exactly, with no tolerance: the store keeps the doubles the loader parses
 * (DuckDB's DOUBLE cast and Parquet are exact for them), so a stored chain must come back
 * bit-identical, and any difference is a bug, not rounding.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDeribitCsvFile } from "../../../src/adapters/deribit/files.js";
import { DuckDbSnapshotStore } from "../../../src/adapters/store/duckdb.js";
import {
  historyDeliveryPrices,
  historyInfo,
  historySnapshots,
  loadHistoryChains,
} from "../../../src/adapters/store/historyRead.js";
import { ingestHistory } from "../../../src/adapters/store/ingest.js";
import { deribitSqlReasons } from "../../../src/adapters/store/ingestDeribit.js";
import type { ChainSnapshot } from "../../../src/core/market/types.js";
import { createRng } from "../../../src/core/math/rng.js";
import { craftedCsv } from "./historyFixtures.js";

const DATA = join(import.meta.dirname, "../../../../shared/data/deribit");
const SAMPLE = join(DATA, "sample_BTC_ETH_chain_20260110T091409Z.csv");
const DAILY = join(DATA, "daily");
const plain = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

/**
 * The SQL rules (ingestDeribit.ts) against the loader's validator on one file, row by row: every
 * row the SQL rules decide has the loader's reason (null = accepted; the file-level outlier rule
 * is not a row rule). Returns the lines left to the loader ("check").
 */
async function compareReasons(
  store: DuckDbSnapshotStore,
  path: string,
  loaded?: Awaited<ReturnType<typeof loadDeribitCsvFile>>,
): Promise<number[]> {
  const ref = loaded ?? (await loadDeribitCsvFile(path));
  const { readFileSync } = await import("node:fs");
  const { gunzipSync } = await import("node:zlib");
  const gzip = path.endsWith(".gz");
  const bytes = readFileSync(path);
  const first = (gzip ? gunzipSync(bytes) : bytes).toString("utf8").split("\n", 1)[0] ?? "";
  const source = {
    path,
    src: basename(path),
    gzip,
    header: first.trim().split(","),
    format: "deribit-csv" as const,
  };
  const sql = (await deribitSqlReasons(store.connection, [source])).get(path) ?? [];
  expect(sql).toHaveLength(ref.rowsRead);
  const byLine = new Map(
    ref.rejected.filter((r) => r.reason !== "timestamp-outlier").map((r) => [r.line, r.reason as string]),
  );
  const checks: number[] = [];
  for (const [i, reason] of sql.entries()) {
    if (reason === "check") checks.push(i + 2);
    else expect({ line: i + 2, reason }).toEqual({ line: i + 2, reason: byLine.get(i + 2) ?? null });
  }
  return checks;
}

describe("history store: ingest against the file loader", () => {
  let dir = "";
  let store: DuckDbSnapshotStore;
  const files: string[] = [];
  let crafted: ReturnType<typeof craftedCsv>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "volfolio-history-"));
    crafted = craftedCsv();
    const plainPath = join(dir, "in", "deribit_options_snapshot_20260110T091409Z.csv");
    const gzPath = join(dir, "in", "deribit_options_snapshot_20260111T091409Z.csv.gz");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(join(dir, "in"), { recursive: true });
    writeFileSync(plainPath, crafted.text);
    // the same rows a day later, gzipped
    writeFileSync(
      gzPath,
      gzipSync(Buffer.from(crafted.text.replaceAll("2026-01-10T09:14:09", "2026-01-11T09:14:09"))),
    );
    files.push(plainPath, gzPath);
    store = await DuckDbSnapshotStore.open(join(dir, "store"));
  });
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("rejects every bad row with the loader's reason, line and detail; accepted + rejected = rows read per file", async () => {
    const r = await ingestHistory(store, [join(dir, "in")]);
    expect(r.files).toHaveLength(2);
    for (const f of r.files) {
      const ref = await loadDeribitCsvFile(f.path);
      expect(f.rowsRead).toBe(ref.rowsRead);
      expect(f.accepted + f.rejected).toBe(f.rowsRead);
      expect(f.rejected).toBe(ref.rejected.length);
      expect(f.byReason).toEqual(crafted.expected);
      const stored = await store.query(
        `SELECT line::INT AS line, reason, detail, row_json FROM h_rejects WHERE src = '${f.src}' ORDER BY line`,
      );
      expect(stored.map((x) => ({ line: x.line, reason: x.reason, detail: x.detail }))).toEqual(
        ref.rejected.map((x) => ({ line: x.line, reason: x.reason, detail: x.detail })),
      );
      // the raw fields are kept
      expect(JSON.parse(String(stored[0]?.row_json))).toEqual(ref.rejected[0]?.row);
      // the accepted rows give the loader's chain, deep-equal
      const h = await loadHistoryChains(store, { underlying: "BTC" });
      const mine = h.chains.find((c) => c.valuationTime === ref.chains[0]?.valuationTime);
      expect(plain(mine)).toEqual(plain(ref.chains[0]));
    }
    const info = await historyInfo(store);
    expect(info.rejectsByReason).toEqual(
      Object.fromEntries(Object.entries(crafted.expected).map(([k, v]) => [k, 2 * v])),
    );
    expect(info.rowsRead).toBe(info.accepted + info.rejected);
  });

  it("the SQL rules give the loader's reason for every row they decide; only loose forms are left to it", async () => {
    for (const path of files) {
      const checks = await compareReasons(store, path);
      // "yesterday" (Date.parse may read a free-form date), blanks around a name (twice: the
      // outlier row is a copy), "0x10" as a strike (Number() reads it), a blank-only number, an
      // offset without a colon, " call"
      expect(checks).toHaveLength(7);
    }
  });

  it("ingesting a file again replaces its rows (no duplicates), and the old Parquet batch is removed", async () => {
    const before = await historyInfo(store);
    await ingestHistory(store, [files[0] as string]);
    const after = await historyInfo(store);
    expect(after.rowsRead).toBe(before.rowsRead);
    expect(after.chains).toEqual(before.chains);
    expect(after.rejectsByReason).toEqual(before.rejectsByReason);
    const batches = new Set(readdirSync(join(dir, "store", "history", "quotes")).map((f) => f.split(".")[0]));
    expect(batches.size).toBe(2);
    const live = await store.query("SELECT DISTINCT batch FROM history_files");
    expect(live).toHaveLength(2);
  });

  it("stores perpetual and delivery prices; chains carry the perpetual nearest their time", async () => {
    const perp = join(dir, "in2", "perpetual_futures_prices.csv");
    const deliv = join(dir, "in2", "delivery_prices.csv");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(join(dir, "in2"), { recursive: true });
    const t = Date.UTC(2026, 0, 10, 9, 14, 9);
    writeFileSync(
      perp,
      [
        "snapshot_file,snapshot_timestamp_ms,obs_datetime,coin,instrument_name,candle_found,candle_tick_ms,candle_open_time_ms,candle_close_time_ms,candle_gap_open_seconds,candle_gap_close_seconds,candle_price_choice,candle_price_timestamp_ms,candle_price_gap_seconds,candle_open,candle_high,candle_low,candle_close,candle_volume,candle_cost,accepted_under_max_gap,candle_resolution,candle_price_used,perp_futures_mark_price,perp_futures_best_bid,perp_futures_best_ask,data_source",
        `a.csv,${t + 1000},x,BTC,BTC-PERPETUAL,True,0,0,0,0,0,open,0,0,1,1,1,1,1,1,True,1,90550.5,,,,src`,
        `a.csv,${t + 2000},x,BTC,BTC-PERPETUAL,True,0,0,0,0,0,open,0,0,1,1,1,1,1,1,False,1,90551,,,,src`,
        `a.csv,${t},x,BTC,ETH-PERPETUAL,True,0,0,0,0,0,open,0,0,1,1,1,1,1,1,True,1,3000,,,,src`,
      ].join("\n"),
    );
    writeFileSync(
      deliv,
      "index_name,date,delivery_price\nbtc_usd,2026-03-27,91000.5\nbtc_usd,2026-13-01,1\n",
    );
    const r = await ingestHistory(store, [perp, deliv]);
    const byFile = Object.fromEntries(r.files.map((f) => [f.src, f]));
    expect(byFile["perpetual_futures_prices.csv"]).toMatchObject({ rowsRead: 3, accepted: 1, rejected: 2 });
    expect(byFile["perpetual_futures_prices.csv"]?.byReason).toEqual({ "no-price": 1, "invalid-field": 1 });
    expect(byFile["delivery_prices.csv"]).toMatchObject({ rowsRead: 2, accepted: 1, rejected: 1 });
    const h = await loadHistoryChains(store, { underlying: "BTC", withPerpetual: true });
    expect(h.withPerpetual).toBe(1);
    const c = h.chains.find((x) => x.valuationTime === t);
    expect(c?.futures?.[0]).toEqual({
      name: "BTC-PERPETUAL",
      underlying: "BTC",
      expiry: null,
      timestamp: t + 1000,
      mark: 90550.5,
      bid: null,
      ask: null,
    });
    expect([...(await historyDeliveryPrices(store, "BTC"))]).toEqual([[Date.UTC(2026, 2, 27, 8), 91000.5]]);
    // the replay iterator yields the same chains one at a time
    const replay: ChainSnapshot[] = [];
    for await (const x of historySnapshots(store, { underlying: "BTC" })) replay.push(x);
    expect(plain(replay)).toEqual(plain((await loadHistoryChains(store, { underlying: "BTC" })).chains));
  });

  it("a Tardis options_chain file: the Tardis loader's chain, rejects and superseded counts", async () => {
    const src = join(import.meta.dirname, "../../fixtures/market/tardis_options_chain.csv");
    const { mkdirSync, readFileSync } = await import("node:fs");
    mkdirSync(join(dir, "in3"), { recursive: true });
    // the fixture plus a bad row of each per-row kind and an older update of a symbol
    const text = readFileSync(src, "utf8").trimEnd().split("\n");
    const row = (text[1] as string).split(",");
    const bad = (i: number, v: string) => row.map((x, j) => (j === i ? v : x)).join(",");
    text.push(
      bad(5, "abc"),
      bad(1, "BTC-XX-1-C"),
      bad(5, "81000"),
      bad(2, String(Number(row[2]) - 3_600_000_000)),
    );
    text.push(
      bad(2, String(Number(row[2]) - 60_000_000)).replace(
        row[3] as string,
        String(Number(row[3]) - 60_000_000),
      ),
    );
    const path = join(dir, "in3", "tardis_options_chain.csv");
    writeFileSync(path, `${text.join("\n")}\n`);
    const { loadTardisOptionsChainFile } = await import("../../../src/adapters/tardis/optionsChain.js");
    const ref = await loadTardisOptionsChainFile(path);
    const r = await ingestHistory(store, [path]);
    const f = r.files[0];
    expect(f).toMatchObject({
      format: "tardis-csv",
      rowsRead: ref.rowsRead,
      superseded: ref.superseded,
      rejected: ref.rejected.length,
    });
    expect(ref.superseded).toBeGreaterThan(0);
    const refReasons: Record<string, number> = {};
    for (const x of ref.rejected) refReasons[x.reason] = (refReasons[x.reason] ?? 0) + 1;
    expect(f?.byReason).toEqual(refReasons);
    expect(Object.keys(refReasons).sort()).toEqual([
      "bad-instrument-name",
      "invalid-field",
      "name-mismatch",
      "timestamp-outlier",
    ]);
    expect((f?.accepted ?? 0) + (f?.superseded ?? 0) + (f?.rejected ?? 0)).toBe(f?.rowsRead);
    const stored = await store.query(
      `SELECT line::INT AS line, reason, detail FROM h_rejects WHERE src = 'tardis_options_chain.csv' ORDER BY line`,
    );
    expect(stored).toEqual(ref.rejected.map((x) => ({ line: x.line, reason: x.reason, detail: x.detail })));
    expect(ref.chains.length).toBeGreaterThan(0);
    for (const c of ref.chains) {
      const h = await loadHistoryChains(store, {
        underlying: c.underlying,
        from: c.valuationTime,
        to: c.valuationTime,
      });
      expect(plain(h.chains)).toEqual([plain(c)]);
    }
  });

  it("a directory with nothing ingestible is one error naming the reason", async () => {
    const { mkdirSync } = await import("node:fs");
    mkdirSync(join(dir, "empty"), { recursive: true });
    writeFileSync(join(dir, "empty", "x.csv"), "a,b\n1,2\n");
    await expect(ingestHistory(store, [join(dir, "empty")])).rejects.toThrow(/unknown file format/);
    await expect(ingestHistory(store, [join(dir, "missing")])).rejects.toThrow(/not found/);
  });
});

describe.skipIf(!existsSync(DAILY))("history store: real Deribit days equal the file loader", () => {
  it("a seeded sample of days (and the sample chain): same chains, same counts", async () => {
    const names = readdirSync(DAILY).sort();
    const rng = createRng(22);
    const pick = new Set<string>();
    while (pick.size < 6) pick.add(names[Math.floor(rng.uniform() * names.length)] as string);
    const paths = [...pick].map((n) => join(DAILY, n));
    if (existsSync(SAMPLE)) paths.push(SAMPLE);
    const dir = mkdtempSync(join(tmpdir(), "volfolio-history-real-"));
    const store = await DuckDbSnapshotStore.open(dir);
    try {
      const r = await ingestHistory(store, paths);
      for (const f of r.files) {
        const ref = await loadDeribitCsvFile(f.path);
        expect(await compareReasons(store, f.path, ref)).toEqual([]);
        expect(f.rowsRead).toBe(ref.rowsRead);
        expect(f.rejected).toBe(ref.rejected.length);
        expect(f.accepted + f.rejected).toBe(f.rowsRead);
        for (const c of ref.chains) {
          const h = await loadHistoryChains(store, {
            underlying: c.underlying,
            from: c.valuationTime,
            to: c.valuationTime,
          });
          expect(h.chains).toHaveLength(1);
          expect(plain(h.chains[0])).toEqual(plain(c));
        }
      }
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
