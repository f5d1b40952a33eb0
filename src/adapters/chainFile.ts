/**
 * One entry point for option-chain files: detects the format from the content (not the name)
 * and calls the right loader.
 *
 *   deribit-csv   Deribit snapshot CSV (header has instrument_name and implied_volatility)
 *   tardis-csv    Tardis options_chain CSV (header has exchange, symbol, strike_price, expiration)
 *   deribit-json  Deribit API v2 JSON (get_book_summary_by_currency / ticker results, envelopes
 *                 or bare arrays; see deribit/apiShapes.ts)
 * gzip is detected by its magic bytes (1f 8b), whatever the file is called.
 *
 * Counts reconcile for every format: accepted + superseded + rejected = rowsRead, where
 * "accepted" counts option quotes in the chains plus (JSON only) futures entries.
 *
 * Valuation time: the snapshot formats (Deribit CSV and JSON) use the file's dominant timestamp and
 * reject rows far from it as `timestamp-outlier`; Tardis streams end at the latest non-outlier
 * update (see each loader). `valuationTime` overrides it for every format (CLI `--time`).
 * `warnings` carries what the loaders flag without rejecting rows (e.g. no bid/ask columns: the
 * quotes are kept mark-only). A file that is not a chain (unknown format, invalid JSON) is a
 * BadInputFileError (CLI exit 2).
 */
import { open } from "node:fs/promises";
import type { Readable } from "node:stream";
import { gunzipSync } from "node:zlib";
import type { ChainSnapshot } from "../core/market/types.js";
import { deribitEntriesToChains, deribitPayloadEntries } from "./deribit/apiShapes.js";
import { parseDeribitCsv } from "./deribit/files.js";
import {
  BadInputFileError,
  checkInputFile,
  inputFileError,
  inputFileStream,
  readInputBytes,
  readInputText,
} from "./inputFile.js";
import { parseTardisOptionsChain } from "./tardis/optionsChain.js";

export type ChainFileFormat = "deribit-csv" | "tardis-csv" | "deribit-json";

export interface ChainFileRejection {
  /** "line 12" (CSV, 1-based with the header as line 1) or "entry 3" (JSON, 0-based). */
  readonly where: string;
  readonly reason: string;
  readonly detail: string;
}

export interface ChainFileResult {
  readonly format: ChainFileFormat;
  readonly gzip: boolean;
  readonly chains: ChainSnapshot[];
  readonly rejected: ChainFileRejection[];
  readonly rowsRead: number;
  /** Rows not used but not wrong: older updates of a symbol (Tardis), futures entries (JSON). */
  readonly superseded: number;
  /** Loud notes that did not reject rows (e.g. "no bid_price, ask_price columns: mark-only"). */
  readonly warnings: string[];
}

export interface ChainFileOptions {
  /** Tardis only: snapshot instant, epoch ms UTC (default: end of file). */
  readonly at?: number;
  /** The chains' valuation time, epoch ms UTC (default: from the file's timestamps). */
  readonly valuationTime?: number;
}

/** Detects the format from the first bytes of a (possibly gzipped) file head. */
export function detectChainFormat(head: string): ChainFileFormat | null {
  const text = head.replace(/^\uFEFF/, "").trimStart();
  if (text.startsWith("{") || text.startsWith("[")) return "deribit-json";
  const header = (text.split(/\r?\n/, 1)[0] ?? "")
    .toLowerCase()
    .split(",")
    .map((s) => s.trim().replace(/^"|"$/g, ""));
  const has = (c: string) => header.includes(c);
  if (has("instrument_name") && (has("implied_volatility") || has("mark_price"))) return "deribit-csv";
  if (has("exchange") && has("symbol") && has("strike_price") && has("expiration")) return "tardis-csv";
  return null;
}

const WHAT = "chain file";

async function readHead(path: string): Promise<{ head: string; gzip: boolean }> {
  await checkInputFile(path, WHAT);
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, "r");
  } catch (e) {
    throw inputFileError(e, path, WHAT);
  }
  try {
    const buf = Buffer.alloc(65_536);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const bytes = buf.subarray(0, bytesRead);
    const gzip = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
    if (!gzip) return { head: bytes.toString("utf8"), gzip };
    // Decompress just enough of the head: stream until 8 KiB of text or the end.
    const text = await new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const s = inputFileStream(path, { gzip: true, what: WHAT });
      s.on("data", (c: Buffer) => {
        chunks.push(c);
        size += c.length;
        if (size >= 8192) s.destroy();
      });
      s.on("close", () => resolve(Buffer.concat(chunks).toString("utf8")));
      s.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
      s.on("error", (e) => (size > 0 ? resolve(Buffer.concat(chunks).toString("utf8")) : reject(e)));
    });
    return { head: text, gzip };
  } finally {
    await fh.close();
  }
}

/** The file's (gunzipped) bytes; a read or gzip error is one InputFileError naming the path. */
function openStream(path: string, gzip: boolean): Readable {
  return inputFileStream(path, { gzip, what: WHAT });
}

/** Loads a JSON payload already parsed (exported for the CLI and tests). */
export function chainsFromDeribitJson(
  doc: unknown,
  options: Pick<ChainFileOptions, "valuationTime"> = {},
): Omit<ChainFileResult, "gzip" | "format"> {
  const entries = deribitPayloadEntries(doc);
  const r = deribitEntriesToChains(
    entries,
    options.valuationTime === undefined ? {} : { valuationTime: options.valuationTime },
  );
  return {
    chains: r.chains,
    rejected: r.rejected.map((x) => ({ where: `entry ${x.index}`, reason: x.reason, detail: x.detail })),
    rowsRead: r.entriesRead,
    superseded: r.futuresRead,
    warnings: r.warnings,
  };
}

/** Detects the format of `path` and loads it. Throws on an unknown format (naming the header). */
export async function loadChainFile(path: string, options: ChainFileOptions = {}): Promise<ChainFileResult> {
  const { head, gzip } = await readHead(path);
  const format = detectChainFormat(head);
  if (format === null) {
    const first = (head.split(/\r?\n/, 1)[0] ?? "").slice(0, 120);
    throw new BadInputFileError(path, [
      `unknown chain file format (expected a Deribit CSV, a Tardis options_chain CSV or Deribit API JSON; first line: ${JSON.stringify(first)})`,
    ]);
  }
  if (format === "deribit-json") {
    let text: string;
    if (gzip) {
      const raw = await readInputBytes(path, WHAT);
      try {
        text = gunzipSync(raw).toString("utf8");
      } catch (e) {
        throw inputFileError({ code: "EBADGZIP", message: (e as Error).message }, path, WHAT);
      }
    } else text = await readInputText(path, WHAT);
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new BadInputFileError(path, [`invalid JSON (${(e as Error).message})`]);
    }
    return { format, gzip, ...chainsFromDeribitJson(doc, options) };
  }
  const vt = options.valuationTime === undefined ? {} : { valuationTime: options.valuationTime };
  if (format === "deribit-csv") {
    const r = await parseDeribitCsv(openStream(path, gzip), { source: path, ...vt });
    return csvChainResult(format, gzip, r, 0);
  }
  const r = await parseTardisOptionsChain(openStream(path, gzip), {
    source: path,
    ...vt,
    ...(options.at === undefined ? {} : { at: options.at }),
  });
  return csvChainResult(format, gzip, r, r.superseded);
}

/** What the Deribit and Tardis CSV parsers both return (their rejects carry a 1-based line). */
interface CsvChainParse {
  readonly chains: ChainSnapshot[];
  readonly rejected: readonly { readonly line: number; readonly reason: string; readonly detail: string }[];
  readonly rowsRead: number;
  readonly warnings: string[];
}

/** A CSV parser's result as a ChainFileResult: rejects located as "line N". */
function csvChainResult(
  format: ChainFileFormat,
  gzip: boolean,
  r: CsvChainParse,
  superseded: number,
): ChainFileResult {
  return {
    format,
    gzip,
    chains: r.chains,
    rejected: r.rejected.map((x) => ({ where: `line ${x.line}`, reason: x.reason, detail: x.detail })),
    rowsRead: r.rowsRead,
    superseded,
    warnings: r.warnings,
  };
}
