import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DuckDbSnapshotStore } from "../../../src/adapters/store/duckdb.js";
import { chain } from "./fixtures.js";

describe("DuckDbSnapshotStore", () => {
  let dir = "";
  let store: DuckDbSnapshotStore;
  const t1 = Date.UTC(2024, 11, 20, 8, 0, 0);
  const t2 = Date.UTC(2024, 11, 21, 8, 0, 0);
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "volfolio-store-"));
    store = await DuckDbSnapshotStore.open(dir);
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("round-trips chains deep-equal (nulls preserved) in a Hive Parquet layout", async () => {
    expect(await store.loadChain("BTC", t1)).toBeNull();
    const a = chain("BTC", t1, 97001.12);
    const b = chain("BTC", t2, 98000);
    const e = chain("ETH", t1, 3400);
    await store.saveChain(a);
    await store.saveChain(b);
    await store.saveChain(e);
    expect(existsSync(join(dir, "chains", "underlying=BTC", "date=2024-12-20", `${t1}.parquet`))).toBe(true);
    expect(await store.loadChain("BTC", t1)).toEqual(a);
    expect(await store.loadChain("BTC", t2)).toEqual(b);
    expect(await store.loadChain("ETH", t1)).toEqual(e);
    expect(await store.listSnapshots({ underlying: "BTC" })).toEqual([
      { underlying: "BTC", valuationTime: t1, quotes: 3 },
      { underlying: "BTC", valuationTime: t2, quotes: 3 },
    ]);
    expect(await store.listSnapshots({ from: t2 })).toHaveLength(1);
    expect(await store.listSnapshots({ to: t1 })).toHaveLength(2);
  });

  it("answers SQL over the partitions", async () => {
    const rows = await store.query(
      "SELECT underlying, date, count(*)::INT AS n, count(bid)::INT AS with_bid FROM chains GROUP BY ALL ORDER BY underlying, date",
    );
    expect(rows).toEqual([
      { underlying: "BTC", date: "2024-12-20", n: 3, with_bid: 2 },
      { underlying: "BTC", date: "2024-12-21", n: 3, with_bid: 2 },
      { underlying: "ETH", date: "2024-12-20", n: 3, with_bid: 2 },
    ]);
  });

  it("append-only records: insert-if-absent on the key, insertion order, survives reopen", async () => {
    expect(await store.appendRecord("orders", "o-1", { side: "buy", qty: 1 })).toBe(true);
    expect(await store.appendRecord("orders", "o-2", { side: "sell", qty: 2, px: null })).toBe(true);
    expect(await store.appendRecord("orders", "o-1", { side: "sell", qty: 99 })).toBe(false);
    expect(await store.appendRecord("fills", "o-1", { qty: 1 })).toBe(true);
    await expect(store.appendRecord("bad table;", "k", {})).rejects.toThrow();
    await store.close();
    store = await DuckDbSnapshotStore.open(dir);
    expect(await store.readRecords("orders")).toEqual([
      { key: "o-1", json: { side: "buy", qty: 1 } },
      { key: "o-2", json: { side: "sell", qty: 2, px: null } },
    ]);
    expect(await store.readRecords("fills")).toHaveLength(1);
    expect(await store.loadChain("ETH", t1)).not.toBeNull();
  });
});
