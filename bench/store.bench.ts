/**
 * Store bench: snapshots saved/loaded per second and quote rows/s, DuckDB (Parquet) vs Postgres
 * (skipped when VOLFOLIO_PG_URL is unset/unreachable), each against JSON.stringify/parse of the
 * same chain (in-memory baseline measured in the same run).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDbSnapshotStore } from "../src/adapters/store/duckdb.js";
import { PostgresSnapshotStore } from "../src/adapters/store/postgres.js";
import type { SnapshotStore } from "../src/adapters/store/types.js";
import type { ChainSnapshot } from "../src/core/market/types.js";
import { syntheticChain } from "../src/core/market/synthetic.js";
import { fmt, header, timeOnce } from "./harness.js";

const N = 20;
const t0 = Date.UTC(2026, 0, 5, 8, 0, 0);

async function benchStore(name: string, store: SnapshotStore, chains: ChainSnapshot[], baseMs: number) {
  const rows = chains.reduce((s, c) => s + c.quotes.length, 0);
  const save = await timeOnce(async () => {
    for (const c of chains) await store.saveChain(c);
  });
  const load = await timeOnce(async () => {
    for (const c of chains) await store.loadChain(c.underlying, c.valuationTime);
  });
  console.log(
    `${name}: save ${fmt((N * 1000) / save.ms)} snapshots/s (${fmt((rows * 1000) / save.ms)} rows/s), load ${fmt((N * 1000) / load.ms)} snapshots/s (${fmt((rows * 1000) / load.ms)} rows/s); save+load ${fmt((save.ms + load.ms) / baseMs)}x the JSON stringify+parse baseline`,
  );
  await store.close();
}

export async function run(): Promise<void> {
  header("store: DuckDB Parquet vs Postgres vs JSON baseline");
  const chains = Array.from({ length: N }, (_, i) =>
    syntheticChain({ underlying: "BTC", valuationTime: t0 + i * 3_600_000, seed: i + 1 }),
  );
  const rows = chains.reduce((s, c) => s + c.quotes.length, 0);
  const base = await timeOnce(() => {
    let n = 0;
    for (const c of chains) n += (JSON.parse(JSON.stringify(c)) as ChainSnapshot).quotes.length;
    return n;
  });
  console.log(`${N} snapshots, ${rows} quote rows; JSON stringify+parse baseline ${fmt(base.ms)} ms`);
  const dir = mkdtempSync(join(tmpdir(), "volfolio-store-bench-"));
  try {
    await benchStore("duckdb", await DuckDbSnapshotStore.open(dir), chains, base.ms);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const url = process.env.VOLFOLIO_PG_URL;
  if (!url) {
    console.log('postgres: skipped (VOLFOLIO_PG_URL unset; eval "$(bash scripts/ci-services.sh)")');
    return;
  }
  try {
    await benchStore("postgres", await PostgresSnapshotStore.open(url), chains, base.ms);
  } catch (err) {
    console.log(`postgres: skipped (${(err as Error).message})`);
  }
}
