/**
 * A real PostgreSQL for the store tests: VOLFOLIO_PG_URL when it answers (scripts/ci-services.sh),
 * else a throwaway cluster from the installed binaries (initdb in a temp directory, a free port on
 * 127.0.0.1, run as the postgres user when we are root), as test/agent/pgOutage.test.ts does.
 * Null (the tests skip and say why) when neither is available.
 */
import { execFile } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";

const run = promisify(execFile);

export interface TestPostgres {
  readonly url: string;
  /** Stops a cluster this helper started (nothing for VOLFOLIO_PG_URL). */
  close(): Promise<void>;
}

async function answers(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.end();
    return true;
  } catch {
    return false;
  }
}

function pgBinDir(): string | null {
  const base = "/usr/lib/postgresql";
  if (!existsSync(base)) return null;
  const v = readdirSync(base)
    .filter((x) => existsSync(join(base, x, "bin/pg_ctl")))
    .sort((a, b) => Number(a) - Number(b))
    .at(-1);
  return v ? join(base, v, "bin") : null;
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a ? a.port : 0;
      s.close(() => done(port));
    });
  });
}

/** Runs a PostgreSQL tool as a user it accepts (the postgres user when we are root). */
async function tool(bin: string, name: string, args: readonly string[]): Promise<void> {
  const cmd = [join(bin, name), ...args];
  if (userInfo().uid === 0) {
    const quoted = cmd.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
    await run("su", ["postgres", "-s", "/bin/sh", "-c", quoted], { timeout: 60_000 });
  } else await run(cmd[0] ?? "", cmd.slice(1), { timeout: 60_000 });
}

async function privateCluster(bin: string): Promise<TestPostgres> {
  const dir = mkdtempSync(join(tmpdir(), "volfolio-pgstore-"));
  if (userInfo().uid === 0) {
    const { stdout: uid } = await run("id", ["-u", "postgres"]);
    const { stdout: gid } = await run("id", ["-g", "postgres"]);
    chownSync(dir, Number(uid.trim()), Number(gid.trim()));
    chmodSync(dir, 0o700);
  }
  const data = join(dir, "data");
  const port = await freePort();
  await tool(bin, "initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync"]);
  const opts = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off`;
  await tool(bin, "pg_ctl", ["-D", data, "-l", join(dir, "server.log"), "-o", opts, "-w", "start"]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async close() {
      await tool(bin, "pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A PostgreSQL for the test, or the reason there is none. */
export async function testPostgres(): Promise<TestPostgres | string> {
  const url = process.env.VOLFOLIO_PG_URL;
  if (url && (await answers(url))) return { url, close: async () => {} };
  const bin = pgBinDir();
  if (!bin)
    return `no PostgreSQL: VOLFOLIO_PG_URL ${url ? "unreachable" : "unset"} and no binaries in /usr/lib/postgresql`;
  try {
    return await privateCluster(bin);
  } catch (e) {
    return `no PostgreSQL: a private cluster did not start (${(e as Error).message.split("\n")[0]})`;
  }
}
