/**
 * The agent's crash campaign (issue 19 item 1): many seeded replays, each interrupted again and
 * again until it completes, by
 *  - SIGKILL at a random point: the child is killed as soon as its journal has grown past a size
 *    drawn uniformly over the uninterrupted run's journal (between two writes or during one);
 *  - a crash mid-write: a fault-injecting write wrapper writes half of write K (counted over the
 *    agent's and the paper broker's journals) and then SIGKILLs its own process;
 *  - a full disk: half of write K is written, then the write fails with ENOSPC (the run ends
 *    with an error, the journal rolls the partial record back);
 *  - a truncated last line: after a SIGKILL the agent journal's last record is cut in half on disk.
 * After each completed run it checks, against an uninterrupted run of the same seed:
 * 0 duplicated client order ids at the (paper) exchange, 0 lost (the same ids, in order), the same
 * final book, one outcome per decided order in the journal, and that every start after a fault
 * resumed (a run that cannot restart is counted and the campaign goes on).
 *
 * Run: npx tsx scripts/measure/agentCrashCampaign.ts [--runs 40] [--kills 27] [--tears 3]
 *      [--enospc 3] [--cuts 2] [--steps 500] [--seed 19]
 * (defaults: 40 runs x 27 random SIGKILLs, plus 2 SIGKILLs followed by a cut last line, = 1,160
 * kills, with 120 mid-write crashes and 120 ENOSPC; about 1,500 child starts, ~100 min on a 2-core
 * machine shared by others (load ~20), mostly child start-up). Progress is printed per run; the
 * figures at the end (and as JSON with --json). It measures the tree it runs from: to measure a
 * commit while others edit the working tree, run it from a clean copy (`git archive HEAD | tar -x
 * -C DIR`, node_modules linked).
 *
 * The child (same file, `--child DIR STEPS FEEDSEED [FAULT]`) runs the real Agent, Journal and
 * PaperBroker over a deterministic replay (GBM index from FEEDSEED, exact flat-vol chains) with
 * the crash tests' policy and limits.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { isDeepStrictEqual, parseArgs } from "node:util";
import { PaperBroker } from "../../src/adapters/broker/paper.js";
import { Journal } from "../../src/adapters/journal.js";
import type { AgentFeed, JournalRecord } from "../../src/agent/loop.js";
import type { ChainSnapshot } from "../../src/core/market/types.js";
import { createRng } from "../../src/core/math/rng.js";
import { runCrashAgent } from "../../test/agent/fixtures/crashAgent.js";
import { TICK_MS } from "../../test/agent/fixtures/replay.js";
import { chainAt, registerChain, resolveInstrument, T0 } from "../../test/agent/helpers.js";

/** The replay of seed `seed`: the crash tests' feed with its own GBM path. */
function seededFeed(steps: number, seed: number): AgentFeed {
  const rng = createRng(seed);
  let spot = 100_000;
  const chains: ChainSnapshot[] = [];
  for (let i = 0; i < steps; i++) {
    const c = chainAt(T0 + i * TICK_MS, spot, 0.55 + 0.1 * Math.sin(i / 40));
    registerChain(c); // every instrument up front: recovery resolves old fills
    chains.push(c);
    spot *= Math.exp(0.8 * Math.sqrt(TICK_MS / (365 * 86_400_000)) * rng.normal());
  }
  return { steps, at: async (i) => chains[i] as ChainSnapshot };
}

async function child(dir: string, steps: number, feedSeed: number, fault: string | undefined): Promise<void> {
  await runCrashAgent({ dir, runId: "campaign", feed: seededFeed(steps, feedSeed), fault });
}

interface Exit {
  code: number | null;
  signal: string | null;
  out: string;
}

/**
 * How a child starts: this file bundled by esbuild (tsx's own dependency) into node_modules/.cache,
 * which starts in a quarter of the CPU time of `node --import tsx` (start-up is most of a kill's
 * cost); the tsx way when the bundle cannot be built.
 */
function childCommand(): string[] {
  const out = resolve(import.meta.dirname, "../../node_modules/.cache/volfolio-campaign/child.mjs");
  const esbuild = resolve(import.meta.dirname, "../../node_modules/.bin/esbuild");
  if (existsSync(esbuild)) {
    const b = spawnSync(
      esbuild,
      [
        import.meta.filename,
        "--bundle",
        "--platform=node",
        "--format=esm",
        "--packages=external",
        `--outfile=${out}`,
        "--log-level=warning",
      ],
      { stdio: "inherit" },
    );
    if (b.status === 0) return [out];
  }
  return ["--import", "tsx", import.meta.filename];
}
let CHILD: string[] = [];

function spawnChild(args: string[], watch?: (c: ChildProcess) => () => void): Promise<Exit> {
  return new Promise((done) => {
    const c = spawn(process.execPath, [...CHILD, "--child", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    c.stdout.on("data", (d) => {
      out += d;
    });
    c.stderr.on("data", (d) => {
      out += d;
    });
    const stop = watch?.(c);
    c.on("exit", (code, signal) => {
      stop?.();
      done({ code, signal, out });
    });
  });
}

const size = (p: string) => (existsSync(p) ? statSync(p).size : 0);
const lineCount = (p: string) =>
  existsSync(p)
    ? readFileSync(p, "utf8")
        .split("\n")
        .filter((l) => l !== "").length
    : 0;
const lastJson = (out: string) => JSON.parse(out.trim().split("\n").at(-1) as string);

/** Cuts the file's last line in half (and its newline). */
function cutLastLine(path: string): void {
  const text = readFileSync(path);
  const end = text.length - 1;
  const start = text.lastIndexOf(0x0a, end - 1) + 1;
  truncateSync(path, start + Math.floor((end - start) / 2));
}

const orderIds = (dir: string) =>
  new PaperBroker({ statePath: join(dir, "broker.jsonl"), resolveInstrument })
    .allOrders()
    .map((o) => o.clientOrderId);

type Event = "kill" | "tear" | "enospc" | "cut";

async function campaign(opts: {
  runs: number;
  kills: number;
  tears: number;
  enospc: number;
  cuts: number;
  steps: number;
  seed: number;
  json: boolean;
}): Promise<void> {
  CHILD = childCommand();
  const started = Date.now();
  const t = {
    runs: 0,
    completed: 0,
    kills: 0,
    midWriteFaults: 0,
    enospc: 0,
    truncatedLines: 0,
    starts: 0,
    tornTailsTruncated: 0,
    duplicated: 0,
    lost: 0,
    extra: 0,
    bookMismatches: 0,
    outcomeMismatches: 0,
    notRestartable: 0,
    ordersChecked: 0,
  };
  const master = createRng(opts.seed);
  for (let run = 0; run < opts.runs; run++) {
    const feedSeed = 1 + Math.floor(master.uniform() * 1e9);
    const rng = createRng(feedSeed ^ 0x2f6b);
    const ref = mkdtempSync(join(tmpdir(), "volfolio-campaign-ref-"));
    const dir = mkdtempSync(join(tmpdir(), "volfolio-campaign-"));
    try {
      const r0 = await spawnChild([ref, String(opts.steps), String(feedSeed)]);
      if (r0.code !== 0) throw new Error(`reference run ${run} failed: ${r0.out.slice(-2000)}`);
      const refBook = lastJson(r0.out).book;
      const refBytes = size(join(ref, "journal.jsonl"));
      const writes = lineCount(join(ref, "journal.jsonl")) + lineCount(join(ref, "broker.jsonl"));
      const refIds = orderIds(ref);
      // The schedule: shuffled events; SIGKILL targets sorted over the journal so they spread over the run.
      const events: Event[] = [
        ...Array<Event>(opts.kills).fill("kill"),
        ...Array<Event>(opts.tears).fill("tear"),
        ...Array<Event>(opts.enospc).fill("enospc"),
        ...Array<Event>(opts.cuts).fill("cut"),
      ];
      for (let i = events.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [events[i], events[j]] = [events[j] as Event, events[i] as Event];
      }
      const targets = Array.from({ length: events.length }, () =>
        Math.floor(rng.uniform() * refBytes * 0.97),
      ).sort((a, b) => a - b);
      // A fault at write K of the next start: K uniform so the faults also spread over the run.
      const maxAt = Math.max(2, Math.ceil((1.5 * writes) / events.length));
      const counts = { kill: 0, tear: 0, enospc: 0, cut: 0 };
      let final: Exit | null = null;
      let stuck = false;
      const journalPath = join(dir, "journal.jsonl");
      for (let attempt = 0; !final; attempt++) {
        if (attempt > 3 * events.length + 10) {
          stuck = true;
          break;
        }
        const ev = events[attempt];
        t.starts++;
        let r: Exit;
        if (ev === "kill" || ev === "cut") {
          const target = Math.max(targets[attempt] ?? 0, size(journalPath) + 1);
          r = await spawnChild([dir, String(opts.steps), String(feedSeed)], (c) => {
            const poll = setInterval(() => {
              if (size(journalPath) >= target) c.kill("SIGKILL");
            }, 1);
            return () => clearInterval(poll);
          });
        } else if (ev === "tear" || ev === "enospc") {
          const at = 1 + rng.int(maxAt);
          r = await spawnChild([dir, String(opts.steps), String(feedSeed), `${ev}:${at}`]);
        } else {
          r = await spawnChild([dir, String(opts.steps), String(feedSeed)]);
        }
        if (r.out.includes("journal: torn tail")) t.tornTailsTruncated++;
        if (r.code === 0) {
          final = r;
          break;
        }
        if (r.signal === "SIGKILL") {
          if (ev === "tear" && r.out.includes('{"fault"')) {
            counts.tear++;
          } else {
            counts.kill++;
            if (ev === "cut") {
              const tail = readFileSync(journalPath);
              if (tail.length > 0 && tail[tail.length - 1] === 0x0a) cutLastLine(journalPath);
              counts.cut++;
            }
          }
          continue;
        }
        if (ev === "enospc" && /ENOSPC/.test(r.out)) {
          counts.enospc++;
          continue;
        }
        // An exit that no fault explains: the run cannot restart.
        process.stdout.write(`run ${run}: unexpected exit ${r.code} ${r.signal}\n${r.out.slice(-1500)}\n`);
        stuck = true;
        break;
      }
      t.runs++;
      t.kills += counts.kill;
      t.midWriteFaults += counts.tear;
      t.enospc += counts.enospc;
      t.truncatedLines += counts.cut;
      let verdict = "ok";
      if (stuck || !final) {
        t.notRestartable++;
        verdict = "NOT RESTARTABLE";
      } else {
        t.completed++;
        const state = lastJson(final.out);
        if (state.step !== opts.steps - 1 || !isDeepStrictEqual(state.book, refBook)) {
          t.bookMismatches++;
          verdict = "BOOK MISMATCH";
        }
        const ids = orderIds(dir);
        const seen = new Set<string>();
        for (const id of ids)
          if (seen.has(id)) t.duplicated++;
          else seen.add(id);
        const refSet = new Set(refIds);
        for (const id of refSet) if (!seen.has(id)) t.lost++;
        for (const id of seen) if (!refSet.has(id)) t.extra++;
        if (!isDeepStrictEqual(ids, refIds) && verdict === "ok") verdict = "ORDER IDS DIFFER";
        t.ordersChecked += ids.length;
        const records = new Journal<JournalRecord>(journalPath).read().records;
        const decided = records.flatMap((x) =>
          x.type === "decision" ? x.orders.map((o) => o.clientOrderId) : [],
        );
        const outcomes = records.flatMap((x) =>
          x.type === "order"
            ? [x.state.clientOrderId]
            : x.type === "limit-rejected" || x.type === "cancelled"
              ? [x.clientOrderId]
              : [],
        );
        if (
          new Set(decided).size !== decided.length ||
          !isDeepStrictEqual([...outcomes].sort(), [...decided].sort())
        ) {
          t.outcomeMismatches++;
          if (verdict === "ok") verdict = "OUTCOMES DIFFER";
        }
      }
      const secs = ((Date.now() - started) / 1000).toFixed(0);
      process.stdout.write(
        `run ${run + 1}/${opts.runs} seed ${feedSeed}: ${counts.kill} kills, ${counts.tear} mid-write, ` +
          `${counts.enospc} ENOSPC, ${counts.cut} cut lines, ${refIds.length} orders: ${verdict} ` +
          `(total ${t.kills} kills, ${secs} s)\n`,
      );
    } finally {
      rmSync(ref, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const wallS = (Date.now() - started) / 1000;
  const figures = { ...t, steps: opts.steps, seed: opts.seed, wallSeconds: Math.round(wallS) };
  process.stdout.write(
    `\nagent crash campaign (seed ${opts.seed}, ${opts.steps}-tick replays): ${t.runs} runs (${t.completed} completed), ` +
      `${t.kills} SIGKILLs, ${t.midWriteFaults} mid-write crashes, ${t.enospc} ENOSPC, ${t.truncatedLines} truncated last lines, ` +
      `${t.starts} starts, ${t.tornTailsTruncated} torn tails truncated; ${t.ordersChecked} orders checked: ` +
      `${t.duplicated} duplicated, ${t.lost} lost, ${t.extra} extra, ${t.bookMismatches} book mismatches, ` +
      `${t.outcomeMismatches} journal outcome mismatches, ${t.notRestartable} not restartable; wall ${(wallS / 60).toFixed(1)} min\n`,
  );
  if (opts.json) process.stdout.write(`${JSON.stringify(figures)}\n`);
  const bad = t.duplicated + t.lost + t.extra + t.bookMismatches + t.outcomeMismatches + t.notRestartable;
  process.exitCode = bad === 0 ? 0 : 1;
}

if (process.argv[2] === "--child") {
  const [dir, steps, feedSeed, fault] = process.argv.slice(3) as [string, string, string, string | undefined];
  await child(dir, Number(steps), Number(feedSeed), fault);
} else {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: "40" },
      kills: { type: "string", default: "27" },
      tears: { type: "string", default: "3" },
      enospc: { type: "string", default: "3" },
      cuts: { type: "string", default: "2" },
      steps: { type: "string", default: "500" },
      seed: { type: "string", default: "19" },
      json: { type: "boolean", default: false },
    },
  });
  await campaign({
    runs: Number(values.runs),
    kills: Number(values.kills),
    tears: Number(values.tears),
    enospc: Number(values.enospc),
    cuts: Number(values.cuts),
    steps: Number(values.steps),
    seed: Number(values.seed),
    json: values.json,
  });
}
