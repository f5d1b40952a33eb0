/**
 * One agent per state directory: `agent.lock` in the stateDir holds the owner's pid, host and
 * start time. It is created exclusively (O_EXCL) and fsync'ed; a second agent finding it refuses
 * to start (AgentLockedError: one line naming the owner and the file; the CLI exits 3). A lock is
 * stale, and is replaced with a warning, when its pid is not a live process on this host (the
 * owner was SIGKILLed or the machine restarted) or the file is unreadable half-written garbage
 * older than a minute. The lock is removed when the run ends (if it is still ours).
 */
import { closeSync, fsyncSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

export const LOCK_FILE = "agent.lock";

export interface LockOwner {
  readonly pid: number;
  readonly host: string;
  /** Start time, ISO 8601 UTC. */
  readonly startedAt: string;
  readonly runId: string;
}

export class AgentLockedError extends Error {
  constructor(
    readonly lockFile: string,
    readonly owner: LockOwner | null,
  ) {
    super(
      owner
        ? `state directory is in use: agent pid ${owner.pid} on ${owner.host} (run ${owner.runId}) started ${owner.startedAt} holds ${lockFile}; stop it first (or delete the file if that process is gone)`
        : `state directory is in use: ${lockFile} exists and is being written; stop the other agent first`,
    );
    this.name = "AgentLockedError";
  }
}

/** True when `pid` is a live process (EPERM: alive, owned by another user). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readOwner(file: string): LockOwner | null {
  try {
    const o = JSON.parse(readFileSync(file, "utf8")) as LockOwner;
    return Number.isInteger(o.pid) ? o : null;
  } catch {
    return null;
  }
}

export interface StateLock {
  readonly file: string;
  /** A stale lock this one replaced (its owner is gone), for the log. */
  readonly replaced: LockOwner | null;
  release(): void;
}

/** Takes the stateDir's lock or throws AgentLockedError. */
export function acquireStateLock(stateDir: string, runId: string): StateLock {
  const file = join(stateDir, LOCK_FILE);
  const me: LockOwner = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), runId };
  let replaced: LockOwner | null = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, "wx", 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const owner = readOwner(file);
      if (owner) {
        const stale = owner.host === me.host && !pidAlive(owner.pid);
        if (!stale) throw new AgentLockedError(file, owner);
        replaced = owner;
      } else {
        // Unreadable: a lock being written right now, or garbage from a crash long ago.
        let age = 0;
        try {
          age = Date.now() - statSync(file).mtimeMs;
        } catch {
          continue; // gone meanwhile: retry
        }
        if (age < 60_000) throw new AgentLockedError(file, null);
      }
      rmSync(file, { force: true });
      continue;
    }
    try {
      writeSync(fd, `${JSON.stringify(me)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return {
      file,
      replaced,
      release() {
        const owner = readOwner(file);
        if (owner && owner.pid === me.pid && owner.startedAt === me.startedAt) rmSync(file, { force: true });
      },
    };
  }
  throw new AgentLockedError(file, readOwner(file));
}
