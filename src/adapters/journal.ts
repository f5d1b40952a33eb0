/**
 * An append-only, crash-safe journal of JSON records (one per line), fsync'ed on every append:
 * when `append` returns, the record survives a SIGKILL or power loss. Used by the agent for its
 * write-ahead log (decisions, orders, fills) and by the paper broker for its exchange-side state.
 *
 * A crash can tear only the last line; `read` skips (and counts) a torn final line, and any
 * other unparsable line is an error: a journal is never silently truncated.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { dirname } from "node:path";

export class JournalCorruptError extends Error {
  constructor(path: string, line: number, detail: string) {
    super(`journal ${path} line ${line} is not valid JSON (${detail})`);
    this.name = "JournalCorruptError";
  }
}

export class Journal<T extends object> {
  private fd: number | null = null;
  constructor(readonly path: string) {}

  /** Every complete record, in order; a torn last line (crash mid-write) is reported, not returned. */
  read(): { records: T[]; tornTail: boolean } {
    if (!existsSync(this.path)) return { records: [], tornTail: false };
    const text = readFileSync(this.path, "utf8");
    const lines = text.split("\n");
    const records: T[] = [];
    let tornTail = false;
    lines.forEach((line, i) => {
      if (line.trim() === "") return;
      try {
        records.push(JSON.parse(line) as T);
      } catch (err) {
        const isLast = i === lines.length - 1 || lines.slice(i + 1).every((l) => l.trim() === "");
        if (isLast && !text.endsWith("\n")) tornTail = true;
        else throw new JournalCorruptError(this.path, i + 1, (err as Error).message);
      }
    });
    return { records, tornTail };
  }

  /** Appends one record durably (write + fsync). A torn tail from a crash is terminated first. */
  append(record: T): void {
    if (this.fd === null) {
      mkdirSync(dirname(this.path), { recursive: true });
      const needsNewline =
        existsSync(this.path) &&
        !readFileSync(this.path, "utf8").endsWith("\n") &&
        readFileSync(this.path).length > 0;
      this.fd = openSync(this.path, "a");
      if (needsNewline) writeSync(this.fd, "\n");
    }
    writeSync(this.fd, `${JSON.stringify(record)}\n`);
    fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
