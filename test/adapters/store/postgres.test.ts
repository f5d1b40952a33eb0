/**
 * Postgres backend against a real local PostgreSQL (VOLFOLIO_PG_URL from scripts/ci-services.sh,
 * else a throwaway cluster: pgCluster.ts). Skipped, with a warning, when neither can be had.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresSnapshotStore } from "../../../src/adapters/store/postgres.js";
import { chain } from "./fixtures.js";
import { testPostgres } from "./pgCluster.js";

const server = await testPostgres();
const pgUp = typeof server !== "string";
if (typeof server === "string") console.warn(`postgres store tests skipped: ${server}`);
const url = typeof server === "string" ? "" : server.url;
if (pgUp) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query("DROP TABLE IF EXISTS volfolio_quotes, volfolio_chains, volfolio_records");
  await c.end();
}

describe.skipIf(!pgUp)("PostgresSnapshotStore", () => {
  let store: PostgresSnapshotStore;
  const t1 = Date.UTC(2024, 11, 20, 8, 0, 0);
  const t2 = Date.UTC(2024, 11, 21, 8, 0, 0);
  beforeAll(async () => {
    store = await PostgresSnapshotStore.open(url as string);
  });
  afterAll(async () => {
    await store?.close();
    if (typeof server !== "string") await server.close();
  });

  it("round-trips chains deep-equal (nulls preserved); re-saving replaces", async () => {
    expect(await store.loadChain("BTC", t1)).toBeNull();
    const a = chain("BTC", t1, 97001.12);
    const b = chain("BTC", t2, 98000);
    const e = chain("ETH", t1, 3400);
    await store.saveChain(a);
    await store.saveChain(a);
    await store.saveChain(b);
    await store.saveChain(e);
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

  it("answers SQL", async () => {
    const rows = await store.query(
      "SELECT underlying, count(*)::int AS n, count(bid)::int AS with_bid FROM volfolio_quotes GROUP BY 1 ORDER BY 1",
    );
    expect(rows).toEqual([
      { underlying: "BTC", n: 6, with_bid: 4 },
      { underlying: "ETH", n: 3, with_bid: 2 },
    ]);
  });

  it("append-only records: insert-if-absent on the key, insertion order", async () => {
    expect(await store.appendRecord("orders", "o-1", { side: "buy", qty: 1 })).toBe(true);
    expect(await store.appendRecord("orders", "o-2", { side: "sell", qty: 2, px: null })).toBe(true);
    expect(await store.appendRecord("orders", "o-1", { side: "sell", qty: 99 })).toBe(false);
    expect(await store.appendRecord("fills", "o-1", { qty: 1 })).toBe(true);
    await expect(store.appendRecord("bad table;", "k", {})).rejects.toThrow();
    expect(await store.readRecords("orders")).toEqual([
      { key: "o-1", json: { side: "buy", qty: 1 } },
      { key: "o-2", json: { side: "sell", qty: 2, px: null } },
    ]);
    expect(await store.readRecords("fills")).toHaveLength(1);
  });
});
