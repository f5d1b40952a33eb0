/**
 * Durability: the agent is SIGKILLed at random points during a 1,000-tick replay and restarted
 * until it completes. No order may be duplicated or lost, and the final book must equal that of
 * an uninterrupted run.
 *
 * Kill points are drawn uniformly over the journal's length (the reference run's journal size
 * tells how long it gets): the child is killed as soon as its journal has grown past the drawn
 * size, i.e. at an arbitrary point between two of its writes (or during one).
 *
 * 6 kills keep this CI test at about 18 s of CPU; the 1,000+ kill campaign over 40 seeded replays
 * (with mid-write crashes, ENOSPC and truncated lines) is scripts/measure/agentCrashCampaign.ts.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Journal } from "../../src/adapters/journal.js";
import type { JournalRecord } from "../../src/agent/loop.js";
import { createRng } from "../../src/core/math/rng.js";
import { venueOrderIds } from "./fixtures/replay.js";
import { type RunnerExit, runCrashRunner } from "./fixtures/runCrashRunner.js";
import { expectOneOutcomePerDecidedOrder } from "./helpers.js";
import { tempDir } from "./tmp.js";

const STEPS = 1000;
const KILLS = 6;

const journalSize = (dir: string) => {
  const p = join(dir, "journal.jsonl");
  return existsSync(p) ? statSync(p).size : 0;
};

function runChild(dir: string, killAtJournalBytes: number | null): Promise<RunnerExit> {
  return runCrashRunner([dir, String(STEPS)], (child) => {
    if (killAtJournalBytes === null) return null;
    const poll = setInterval(() => {
      if (journalSize(dir) >= killAtJournalBytes) child.kill("SIGKILL");
    }, 1);
    return () => clearInterval(poll);
  });
}

const lastLine = (out: string) => JSON.parse(out.trim().split("\n").at(-1) as string);

describe("agent crash safety (SIGKILL during a 1,000-tick replay)", () => {
  it("never duplicates or loses an order, and ends with the uninterrupted book", async () => {
    const reference = tempDir("agent-ref");
    const ref = await runChild(reference, null);
    expect(ref.code, ref.out).toBe(0);
    const refState = lastLine(ref.out);
    const refBytes = journalSize(reference);

    const dir = tempDir("agent-crash");
    const rng = createRng(2026);
    // Kill points spread over the whole replay: sorted uniform draws over the journal's final size.
    const targets = Array.from({ length: KILLS }, () => Math.floor(rng.uniform() * refBytes * 0.95)).sort(
      (a, b) => a - b,
    );
    const killedAt: number[] = [];
    const resumes: { fromStep: number; ordersFromBroker: number; ordersResent: number; tornTail: boolean }[] =
      [];
    let final: { code: number | null; out: string } | null = null;
    for (let attempt = 0; attempt < 3 * KILLS; attempt++) {
      const next = targets[killedAt.length];
      const target = next === undefined ? null : Math.max(next, journalSize(dir) + 1);
      const r = await runChild(dir, target);
      for (const line of r.out.split("\n"))
        if (line.includes('"recovered"')) resumes.push(JSON.parse(line).recovered);
      if (r.signal === "SIGKILL") {
        killedAt.push(journalSize(dir));
        continue;
      }
      final = r;
      break;
    }
    console.info(
      `crash test: ${killedAt.length} SIGKILLs at journal sizes ${killedAt.join(", ")} of ~${refBytes} bytes`,
    );
    console.info(`crash test: resumes ${JSON.stringify(resumes)}`);
    expect(killedAt.length).toBe(KILLS);
    expect(final?.code, final?.out).toBe(0);
    const state = lastLine(final?.out ?? "");
    expect(state.step).toBe(STEPS - 1);
    expect(state.book).toEqual(refState.book);

    // The simulated exchange saw each client order id exactly once, and the same ids as the reference.
    const ids = venueOrderIds(dir);
    const refIds = venueOrderIds(reference);
    expect(ids.length).toBeGreaterThan(50);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(refIds);
    // Every decided order has exactly one recorded outcome in the journal.
    const records = new Journal<JournalRecord>(join(dir, "journal.jsonl")).read().records;
    expectOneOutcomePerDecidedOrder(records);
  }, 240_000);
});
