/**
 * An append-only, crash-safe journal of JSON records (one per line), fsync'ed on every append:
 * when `append` returns, the record survives a SIGKILL or power loss. Used by the agent for its
 * write-ahead log (decisions, orders, fills) and by the paper broker for its exchange-side state.
 *
 * Format (version 2): the first line is a header `{"journal":"volfolio","version":2}`; every
 * record line is the record's JSON with its own length and CRC-32 appended as the last two
 * fields, `{...,"~len":N,"~crc":"xxxxxxxx"}` (N = UTF-8 bytes of the record's JSON, the CRC over
 * those bytes), so each line is still one JSON object (`jq`, `JSON.parse` read it) and a line
 * is valid only when its length, checksum and final newline all check.
 *
 * A crash (or a failed write: ENOSPC, EIO) can leave only the last record incomplete. `read`
 * returns the valid prefix and reports the torn tail (bytes, line); `read({ repair: true })`
 * truncates the file to the end of its last valid record (fsync'ed), which the agent does on
 * start and logs. An invalid line followed by valid ones is corruption and an error: a journal is
 * never silently cut in the middle.
 *
 * Durability: a new journal's file and its directory are fsync'ed on creation; every record is
 * written completely (a short write is continued, a write that makes no progress is an error)
 * and fsync'ed. A write that fails part-way is rolled back (ftruncate to the record's start) when
 * the file allows it; otherwise the torn tail is truncated on the next start.
 *
 * Version 1 journals (no header, no checksums: written before this format) are still read: their
 * unframed lines are accepted as they are (a torn last line is detected by JSON parsing alone),
 * and new records appended to them are framed.
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";

export const JOURNAL_VERSION = 2;
const HEADER = `{"journal":"volfolio","version":${JOURNAL_VERSION}}`;
const FRAME = /,?"~len":(\d+),"~crc":"([0-9a-f]{8})"\}$/;

export class JournalCorruptError extends Error {
  constructor(path: string, line: number, detail: string) {
    super(`journal ${path} line ${line} is not a valid record (${detail})`);
    this.name = "JournalCorruptError";
  }
}

/** A write system call: (fd, buffer, offset, length) -> bytes written (node:fs writeSync's shape). */
export type JournalWrite = (fd: number, buffer: Buffer, offset: number, length: number) => number;

export interface JournalOptions {
  /** The write call (tests inject faults here: torn writes, ENOSPC); default fs.writeSync. */
  readonly write?: JournalWrite;
}

export interface JournalRead<T> {
  records: T[];
  /** True when the file ended in an incomplete or invalid record (a crash or failed write). */
  tornTail: boolean;
  /** Bytes after the last valid record (0 without a torn tail) and the 1-based line they start on. */
  tornBytes: number;
  tornLine: number | null;
  /** 1 (legacy, unframed) or 2; null for a missing or empty file. */
  version: number | null;
  /** True when `repair` truncated the torn tail. */
  truncated: boolean;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, zlib's) of `bytes`. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++)
    c = (CRC_TABLE[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** One framed line (with its newline) for `record`. */
export function frameRecord(record: object): string {
  const body = JSON.stringify(record);
  if (!body.startsWith("{") || !body.endsWith("}"))
    throw new TypeError("a journal record must be a JSON object");
  const bytes = Buffer.from(body, "utf8");
  const crc = crc32(bytes).toString(16).padStart(8, "0");
  const sep = body === "{}" ? "" : ",";
  return `${body.slice(0, -1)}${sep}"~len":${bytes.length},"~crc":"${crc}"}\n`;
}

/** The record of a framed line (without newline), or why it is not one. */
function unframe(line: string): { ok: true; record: object } | { ok: false; detail: string } {
  const m = FRAME.exec(line);
  if (!m) return { ok: false, detail: "no length/checksum frame" };
  const body = `${line.slice(0, m.index)}}`;
  const bytes = Buffer.from(body, "utf8");
  if (bytes.length !== Number(m[1])) return { ok: false, detail: `length ${bytes.length} != ${m[1]}` };
  if (crc32(bytes).toString(16).padStart(8, "0") !== m[2]) return { ok: false, detail: "checksum mismatch" };
  try {
    return { ok: true, record: JSON.parse(body) as object };
  } catch (err) {
    return { ok: false, detail: (err as Error).message };
  }
}

/** fsync a directory (its entry for a new file); best effort where directories cannot be opened. */
function fsyncDir(dir: string): void {
  let fd: number | null = null;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // Windows and some filesystems do not allow fsync on a directory.
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

export class Journal<T extends object> {
  private fd: number | null = null;
  private readonly write: JournalWrite;
  constructor(
    readonly path: string,
    options: JournalOptions = {},
  ) {
    this.write = options.write ?? ((fd, buf, off, len) => writeSync(fd, buf, off, len));
  }

  /**
   * Every valid record, in order; a torn tail (crash or failed write mid-record) is reported, not
   * returned, and with `repair` truncated from the file (fsync'ed).
   */
  read(options: { repair?: boolean } = {}): JournalRead<T> {
    const empty = {
      records: [],
      tornTail: false,
      tornBytes: 0,
      tornLine: null,
      version: null,
      truncated: false,
    };
    if (!existsSync(this.path)) return empty;
    const buf = readFileSync(this.path);
    if (buf.length === 0) return empty;
    const records: T[] = [];
    let pos = 0;
    let lineNo = 0;
    let version: number | null = null;
    let validEnd = 0;
    let torn: { line: number; detail: string } | null = null;
    while (pos < buf.length) {
      const nl = buf.indexOf(0x0a, pos);
      const end = nl === -1 ? buf.length : nl;
      const line = buf.subarray(pos, end).toString("utf8");
      lineNo++;
      const complete = nl !== -1;
      const next = complete ? nl + 1 : buf.length;
      let bad: string | null = null;
      if (!complete) bad = "incomplete last line (no newline)";
      else if (lineNo === 1 && version === null && line === HEADER) version = JOURNAL_VERSION;
      else if (line.trim() === "") {
        // blank line (a v1 crash repair wrote a lone newline): skipped
      } else {
        const framed = unframe(line);
        if (framed.ok) records.push(framed.record as T);
        else if (version === JOURNAL_VERSION || FRAME.test(line)) bad = framed.detail;
        else {
          // Version 1 (no header): unframed JSON lines.
          try {
            records.push(JSON.parse(line) as T);
          } catch (err) {
            bad = (err as Error).message;
          }
        }
      }
      if (lineNo === 1 && version === null && bad === null) version = 1;
      if (bad !== null) {
        torn = { line: lineNo, detail: bad };
        // Only the tail may be bad: everything after it must be blank.
        const rest = buf.subarray(next).toString("utf8");
        if (rest.trim() !== "") throw new JournalCorruptError(this.path, lineNo, bad);
        break;
      }
      pos = next;
      validEnd = next;
    }
    const tornBytes = torn ? buf.length - validEnd : 0;
    let truncated = false;
    if (torn && options.repair) {
      this.close();
      const fd = openSync(this.path, "r+");
      try {
        ftruncateSync(fd, validEnd);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      truncated = true;
    }
    return {
      records,
      tornTail: torn !== null,
      tornBytes,
      tornLine: torn?.line ?? null,
      version: version ?? (torn ? null : 1),
      truncated,
    };
  }

  /**
   * Appends one record durably (complete write + fsync). On first use a torn tail left by a crash
   * is truncated, and a new file gets the version header (file and directory fsync'ed).
   */
  append(record: T): void {
    const fd = this.open();
    const bytes = Buffer.from(frameRecord(record), "utf8");
    const start = fstatSync(fd).size;
    try {
      this.writeAll(fd, bytes);
      fsyncSync(fd);
    } catch (err) {
      // Roll the partial record back so the file ends on a valid record; if even that fails the
      // next start truncates the torn tail.
      try {
        ftruncateSync(fd, start);
        fsyncSync(fd);
      } catch {
        // left for the next start
      }
      this.close();
      throw err;
    }
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private open(): number {
    if (this.fd !== null) return this.fd;
    const dir = dirname(this.path);
    mkdirSync(dir, { recursive: true });
    const isNew = !existsSync(this.path) || readFileSync(this.path).length === 0;
    if (!isNew) this.read({ repair: true });
    const fd = openSync(this.path, "a");
    this.fd = fd;
    if (isNew) {
      try {
        this.writeAll(fd, Buffer.from(`${HEADER}\n`, "utf8"));
        fsyncSync(fd);
      } catch (err) {
        this.close();
        throw err;
      }
      fsyncDir(dir);
    }
    return fd;
  }

  private writeAll(fd: number, bytes: Buffer): void {
    let off = 0;
    while (off < bytes.length) {
      const n = this.write(fd, bytes, off, bytes.length - off);
      if (!(n > 0))
        throw new Error(`journal ${this.path}: write made no progress (${n} of ${bytes.length - off} bytes)`);
      off += n;
    }
  }
}
