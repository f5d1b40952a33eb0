/**
 * Portfolio (book) files, validated strictly with zod: JSON or CSV. Bad input is an error, never
 * a number: nothing is coerced (`"quantity": true`, `null`, `""` or `"5"` is not a quantity).
 *
 * JSON: { "positions": [ROW...], "cash"?: { "BTC": 1.5 }, "market"?: MARKET }
 * ROW: either { "instrument": "BTC-27MAR26-90000-C", "quantity": -5, "entryPrice"?: 0.05 }
 *   (Deribit name, parsed by core/instruments/names.ts) or explicit fields
 *   { "type": "option", "underlying": "BTC", "kind": "call", "strike": 90000,
 *     "expiry": "2026-03-27T08:00:00Z" | epoch ms, "settlement": "inverse", "contractSize"?: 1,
 *     "quantity": -5 } / { "type": "future", "underlying": "BTC", "expiry": null | ..., ... }.
 *   Numbers must be JSON numbers (finite); a quantity of 0 is a legal flat leg and is kept.
 * MARKET (optional, for CLI runs without a live chain): { "valuationTime": ISO | ms,
 *   "underlyings": { "BTC": { "indexPrice": 100000, "atmVol": 0.55, "skew"?: -0.1,
 *   "curvature"?: 0.3, "termSlope"?: 0, "forwards"?: [{ "expiry": ISO | ms, "forward": 101000 }] } } }
 *   giving a parametric surface vol(k, T) = atmVol + skew k + curvature k^2 + termSlope sqrt(T)
 *   floored at 0.05 (a stand-in until a fitted surface is supplied).
 *   Plausibility: vols are decimal, so an atmVol above 5 (500%) is refused with the hint
 *   "looks like percent: 0.50?"; indexPrice and forward must be > 0; underlying (and cash) names
 *   must look like coin names, /^[A-Z][A-Z0-9]{1,9}$/ ("BTC", "ETH", "USDC"). A position whose
 *   underlying has no market entry is NOT an error here (the commands report it).
 * CSV: a header with `instrument,quantity[,entryPrice]` or the explicit field names (an unknown
 *   column is an error). CSV is text, so a numeric column must hold a finite decimal number in a
 *   non-empty cell ("", "abc", "1e400" are refused); an empty optional cell (entryPrice,
 *   contractSize, settlement, name; a future's expiry) means absent.
 *
 * Bad rows are returned with their index/line and a reason naming the field, the position
 * ("positions[3].quantity", 0-based) or CSV line ("line 4: quantity", header = line 1) and the
 * offending value (accepted + rejected = rows read); `assertCleanBook` turns them into one
 * BookFileError listing every one. A malformed file (not JSON, no positions array, a bad market
 * or cash section, a bad CSV header) throws a BookFileError naming every problem. The CLI maps
 * BookFileError to exit 2 (bad input file).
 */
import { BadInputFileError, readInputText } from "./inputFile.js";
import { parseCsvNumber } from "./csvFields.js";
import { parse } from "csv-parse/sync";
import { z } from "zod";
import type { Instrument, Position } from "../core/instruments/types.js";
import { parseInstrumentName } from "../core/instruments/names.js";
import {
  parseVolInstrumentName,
  varianceSwapContract,
  volIndexFutureContract,
} from "../core/instruments/volInstruments.js";
import { InvalidInputError } from "../core/errors.js";
import type { RiskMarket, UnderlyingMarket } from "../core/risk/market.js";
import type { VolSurface } from "../core/surface/types.js";

/** A plausible coin (underlying or cash currency) name. */
export const COIN_NAME = /^[A-Z][A-Z0-9]{1,9}$/;
/** Vols above this (500%) are taken for percent by mistake. */
export const MAX_PLAUSIBLE_VOL = 5;

/** A book file whose content is wrong; `problems` lists each (field, position or line, value). */
export class BookFileError extends BadInputFileError {
  constructor(path: string, problems: readonly string[], message?: string) {
    super(path, problems, message ?? `book ${path}: ${problems.join("; ")}`);
    this.name = "BookFileError";
  }
}

const COIN_MESSAGE = 'expected a coin name like "BTC" (A-Z, then 1 to 9 of A-Z or 0-9)';
const num = z.number({ error: "expected a number" });
const positive = num.positive({ error: "must be > 0" });
const coin = z.string({ error: COIN_MESSAGE }).regex(COIN_NAME, { error: COIN_MESSAGE });

/** An instant from epoch ms (an integer) or an ISO date-time string; a zod issue (and NEVER) otherwise. */
function parseInstant(v: unknown, ctx: z.RefinementCtx, nullable: boolean): number {
  if (typeof v === "number" && Number.isInteger(v)) {
    if (Math.abs(v) >= 1e9 && Math.abs(v) < 1e11) {
      ctx.addIssue({
        code: "custom",
        message: "looks like epoch SECONDS; expected epoch ms or an ISO date-time",
      });
      return z.NEVER;
    }
    return v;
  }
  if (typeof v === "string") {
    const t = Date.parse(v);
    if (!Number.isNaN(t)) return t;
  }
  ctx.addIssue({
    code: "custom",
    message: `expected an ISO date-time or epoch ms${nullable ? " (or null: perpetual)" : ""}`,
  });
  return z.NEVER;
}

/** An instant: epoch ms or an ISO date-time string; `null` too when `nullable`. */
function instantSchema(nullable: true): z.ZodType<number | null, unknown>;
function instantSchema(nullable: false): z.ZodType<number, unknown>;
function instantSchema(nullable: boolean): z.ZodType<number | null, unknown> {
  return z
    .unknown()
    .transform((v, ctx): number | null => (nullable && v === null ? null : parseInstant(v, ctx, nullable)));
}
const instant = instantSchema(false);

/** A decimal vol: > 0, and refused with a percent hint above MAX_PLAUSIBLE_VOL. */
const vol = positive.superRefine((v, ctx) => {
  if (v > MAX_PLAUSIBLE_VOL)
    ctx.addIssue({
      code: "custom",
      message: `looks like percent: ${(v / 100).toFixed(2)}? (vols are decimal, 0.55 = 55%)`,
    });
});

const settlement = z.enum(["inverse", "linear"], { error: 'expected "inverse" or "linear"' });

const namedRow = z.object({
  instrument: z
    .string({ error: "expected an instrument name" })
    .min(1, { error: "expected an instrument name" }),
  quantity: num,
  entryPrice: positive.optional(),
});
const optionRow = z.object({
  type: z.literal("option"),
  name: z.string({ error: "expected a string" }).optional(),
  underlying: coin,
  kind: z.enum(["call", "put"], { error: 'expected "call" or "put"' }),
  strike: positive,
  expiry: instant,
  settlement: settlement.default("inverse"),
  contractSize: positive.optional(),
  quantity: num,
  entryPrice: positive.optional(),
});
const futureRow = z.object({
  type: z.literal("future"),
  name: z.string({ error: "expected a string" }).optional(),
  underlying: coin,
  expiry: instantSchema(true)
    .optional()
    .transform((t) => t ?? null),
  settlement: settlement.default("inverse"),
  contractSize: positive.optional(),
  quantity: num,
  entryPrice: positive.optional(),
});

const varianceSwapRow = z.object({
  type: z.literal("varianceSwap"),
  name: z.string({ error: "expected a string" }).optional(),
  underlying: coin,
  start: instant,
  expiry: instant,
  strikeVol: vol,
  settlement: z.literal("linear", { error: 'expected "linear" (variance swaps pay USD)' }).optional(),
  /** Vega notional, USD per vol point per contract: required (no venue default to fall back on). */
  contractSize: positive,
  quantity: num,
});
const volIndexFutureRow = z.object({
  type: z.literal("volIndexFuture"),
  name: z.string({ error: "expected a string" }).optional(),
  underlying: coin,
  expiry: instant,
  settlement: z.literal("linear", { error: 'expected "linear" (DVOL futures settle in USDC)' }).optional(),
  contractSize: positive.optional(),
  tickSize: positive.optional(),
  quantity: num,
  entryPrice: positive.optional(),
});

const fixingSchema = z.object({ time: instant, price: positive }, { error: "expected { time, price }" });

const underlyingMarketSchema = z.object(
  {
    indexPrice: positive,
    atmVol: vol,
    skew: num.default(0),
    curvature: num.default(0),
    termSlope: num.default(0),
    forwards: z
      .array(z.object({ expiry: instant, forward: positive }, { error: "expected { expiry, forward }" }), {
        error: "expected an array of { expiry, forward }",
      })
      .default([]),
    /** Daily index fixings (a started variance swap's accrued realized variance). */
    fixings: z.array(fixingSchema, { error: "expected an array of { time, price }" }).optional(),
    /** Vol of ln(variance) for the DVOL future's convexity (decimal, e.g. 1.3). */
    volOfVariance: num.nonnegative({ error: "must be >= 0" }).optional(),
    volMeanReversion: num.nonnegative({ error: "must be >= 0" }).optional(),
  },
  { error: "expected { indexPrice, atmVol, ... }" },
);

const marketSchema = z.object(
  {
    valuationTime: instant,
    underlyings: z.record(z.string(), underlyingMarketSchema, {
      error: 'expected an object of underlyings, e.g. { "BTC": { ... } }',
    }),
  },
  { error: "expected { valuationTime, underlyings }" },
);

const fileSchema = z.object(
  {
    positions: z.array(z.unknown(), { error: "expected an array of positions" }),
    cash: z.record(z.string(), num, { error: 'expected an object like { "BTC": 1.5 }' }).optional(),
    market: marketSchema.optional(),
  },
  { error: "expected an object { positions, cash?, market? }" },
);

/** A value as a rejection message shows it: strings quoted, a missing field "nothing". */
function show(v: unknown): string {
  if (v === undefined) return "nothing";
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean" || v === null) return String(v);
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** "positions[3].quantity", "market.underlyings.BTC.forwards[0].forward". */
function fieldPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const k of path) {
    if (typeof k === "number") out += `[${k}]`;
    else {
      const key = String(k);
      const part = /^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key);
      out += out === "" ? part : /^[A-Za-z_$]/.test(part) ? `.${part}` : `[${part}]`;
    }
  }
  return out;
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = raw;
  for (const k of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

/** Each zod issue as "<field>: <message>, got <value>" (value read from `raw` at the issue's path). */
function issueTexts(
  error: z.ZodError,
  raw: unknown,
  field: (path: readonly PropertyKey[]) => string,
): string[] {
  return error.issues.map((i) => `${field(i.path)}: ${i.message}, got ${show(valueAt(raw, i.path))}`);
}

export interface PortfolioRowRejection {
  /** 0-based position index (JSON) or 1-based line (CSV, header = 1). */
  readonly row: number;
  /** Every problem of the row, each naming the field ("positions[3].quantity" / "line 4: quantity") and the value. */
  readonly reason: string;
}

export interface PortfolioFile {
  readonly positions: Position[];
  readonly rejected: PortfolioRowRejection[];
  readonly rowsRead: number;
  readonly cash?: Record<string, number>;
  readonly market?: RiskMarket;
  /** The market section as plain data (parametric surfaces; what worker threads receive). */
  readonly marketData?: PortfolioMarketData;
}

/** A market as plain data: per underlying index, forwards and parametric-surface parameters. */
export interface PortfolioMarketData {
  readonly valuationTime: number;
  readonly underlyings: Readonly<
    Record<
      string,
      {
        readonly indexPrice: number;
        readonly forwards: readonly { readonly expiry: number; readonly forward: number }[];
        readonly atmVol: number;
        readonly skew: number;
        readonly curvature: number;
        readonly termSlope: number;
        readonly fixings?: readonly { readonly time: number; readonly price: number }[] | undefined;
        readonly volOfVariance?: number | undefined;
        readonly volMeanReversion?: number | undefined;
      }
    >
  >;
}

function defaultSize(
  type: "option" | "future",
  underlying: string,
  settlement: "inverse" | "linear",
): number {
  if (type === "option")
    return settlement === "inverse" ? 1 : underlying === "BTC" ? 0.01 : underlying === "ETH" ? 0.1 : 1;
  if (settlement === "inverse") return underlying === "BTC" ? 10 : 1;
  return underlying === "BTC" ? 0.001 : underlying === "ETH" ? 0.01 : 1;
}

/**
 * Parses one row into a Position, or a reason naming every bad field with its value. `where` is
 * the row's location as messages show it: "positions[3]" (JSON, the default "position") or
 * "line 4" (CSV; fields then read "line 4: quantity").
 */
export function parsePortfolioRow(
  raw: unknown,
  where = "position",
): { ok: true; position: Position } | { ok: false; reason: string } {
  const csv = where.startsWith("line ");
  const field = (path: readonly PropertyKey[]) =>
    csv ? `${where}: ${fieldPath("", path) || "(row)"}` : fieldPath(where, path);
  if (raw === null || typeof raw !== "object" || Array.isArray(raw))
    return { ok: false, reason: `${where}: expected an object, got ${show(raw)}` };
  const obj = raw as Record<string, unknown>;
  if ("instrument" in obj) return namedPosition(raw, field);
  if (obj.type === "varianceSwap" || obj.type === "volIndexFuture") return volPosition(raw, field);
  if (obj.type !== "option" && obj.type !== "future")
    return {
      ok: false,
      reason: `${field(["type"])}: expected "option", "future", "varianceSwap" or "volIndexFuture" (or an "instrument" name), got ${show(obj.type)}`,
    };
  const r = (obj.type === "option" ? optionRow : futureRow).safeParse(raw);
  if (!r.success) return { ok: false, reason: issueTexts(r.error, raw, field).join("; ") };
  const d = r.data;
  const contractSize = d.contractSize ?? defaultSize(d.type, d.underlying, d.settlement);
  const instrument: Instrument =
    d.type === "option"
      ? {
          type: "option",
          name: d.name ?? `${d.underlying}-${d.expiry}-${d.strike}-${d.kind === "call" ? "C" : "P"}`,
          underlying: d.underlying,
          kind: d.kind,
          strike: d.strike,
          expiry: d.expiry,
          settlement: d.settlement,
          contractSize,
        }
      : {
          type: "future",
          name: d.name ?? `${d.underlying}-${d.expiry ?? "PERPETUAL"}`,
          underlying: d.underlying,
          expiry: d.expiry,
          settlement: d.settlement,
          contractSize,
        };
  return { ok: true, position: withEntry(instrument, d.quantity, d.entryPrice) };
}

type RowResult = { ok: true; position: Position } | { ok: false; reason: string };

function withEntry(instrument: Instrument, quantity: number, entryPrice: number | undefined): Position {
  return { instrument, quantity, ...(entryPrice !== undefined ? { entryPrice } : {}) };
}

/** A core InvalidInputError (a vol instrument's own validation) as a row reason naming the field. */
function coreReason(e: unknown, field: (path: readonly PropertyKey[]) => string, name?: string): string {
  if (e instanceof InvalidInputError)
    return `${field([name === undefined ? e.field : "instrument"])}: ${e.message}`;
  throw e;
}

/** A row naming its instrument: a Deribit name, or a vol instrument's (BTC-VARSWAP-..., BTCDVOL-...). */
function namedPosition(raw: unknown, field: (path: readonly PropertyKey[]) => string): RowResult {
  const r = namedRow.safeParse(raw);
  if (!r.success) return { ok: false, reason: issueTexts(r.error, raw, field).join("; ") };
  const name = r.data.instrument;
  try {
    const v = parseVolInstrumentName(name);
    if (v) return { ok: true, position: withEntry(v, r.data.quantity, r.data.entryPrice) };
  } catch (e) {
    return { ok: false, reason: coreReason(e, field, name) };
  }
  const ins = parseInstrumentName(name);
  if (!ins.ok)
    return {
      ok: false,
      reason: `${field(["instrument"])}: ${ins.reason}: ${ins.message}, got ${show(name)}`,
    };
  return { ok: true, position: withEntry(ins.value, r.data.quantity, r.data.entryPrice) };
}

/** An explicit variance swap or vol-index future row (core constructors validate the terms). */
function volPosition(raw: unknown, field: (path: readonly PropertyKey[]) => string): RowResult {
  const obj = raw as Record<string, unknown>;
  if (obj.type === "varianceSwap") {
    const r = varianceSwapRow.safeParse(raw);
    if (!r.success) return { ok: false, reason: issueTexts(r.error, raw, field).join("; ") };
    const { quantity, settlement: _s, type: _t, name, ...terms } = r.data;
    try {
      const c = varianceSwapContract({ ...terms, ...(name !== undefined ? { name } : {}) });
      return { ok: true, position: { instrument: c, quantity } };
    } catch (e) {
      return { ok: false, reason: coreReason(e, field) };
    }
  }
  const r = volIndexFutureRow.safeParse(raw);
  if (!r.success) return { ok: false, reason: issueTexts(r.error, raw, field).join("; ") };
  const { quantity, entryPrice, settlement: _s, type: _t, name, contractSize, tickSize, ...terms } = r.data;
  try {
    const c = volIndexFutureContract({
      ...terms,
      ...(name !== undefined ? { name } : {}),
      ...(contractSize !== undefined ? { contractSize } : {}),
      ...(tickSize !== undefined ? { tickSize } : {}),
    });
    return { ok: true, position: withEntry(c, quantity, entryPrice) };
  } catch (e) {
    return { ok: false, reason: coreReason(e, field) };
  }
}

/** Parametric surface of the file's market section (see the module comment). */
export function parametricSurface(o: {
  atmVol: number;
  skew: number;
  curvature: number;
  termSlope: number;
}): VolSurface {
  const iv = (k: number, t: number) =>
    Math.max(o.atmVol + o.skew * k + o.curvature * k * k + o.termSlope * Math.sqrt(Math.max(t, 0)), 0.05);
  return { model: "parametric", impliedVol: iv, totalVariance: (k, t) => iv(k, t) ** 2 * t };
}

/** Builds the RiskMarket (parametric surfaces) of a market description. */
export function riskMarketFromPortfolioData(m: PortfolioMarketData): RiskMarket {
  const underlyings: Record<string, UnderlyingMarket> = {};
  for (const [u, x] of Object.entries(m.underlyings))
    underlyings[u] = {
      indexPrice: x.indexPrice,
      forwards: [...x.forwards].sort((a, b) => a.expiry - b.expiry),
      surface: parametricSurface(x),
      ...(x.fixings ? { indexFixings: [...x.fixings].sort((a, b) => a.time - b.time) } : {}),
      ...(x.volOfVariance !== undefined ? { volOfVariance: x.volOfVariance } : {}),
      ...(x.volMeanReversion !== undefined ? { volMeanReversion: x.volMeanReversion } : {}),
    };
  return { valuationTime: m.valuationTime, underlyings };
}

/** Coin-name problems of the keys of `rec` (market underlyings, cash currencies). */
function coinKeyProblems(rec: unknown, prefix: string): string[] {
  if (rec === null || typeof rec !== "object" || Array.isArray(rec)) return [];
  return Object.keys(rec)
    .filter((k) => !COIN_NAME.test(k))
    .map((k) => `${fieldPath(prefix, [k])}: ${COIN_MESSAGE}, got ${show(k)}`);
}

/**
 * Parses a JSON book text. Bad rows are returned in `rejected`; a malformed file (not JSON, no
 * positions array, a bad market or cash section) throws a BookFileError naming every problem.
 * `path` names the file in that error.
 */
export function parsePortfolioJson(text: string, path = "(book)"): PortfolioFile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new BookFileError(path, [`not valid JSON (${(e as Error).message})`]);
  }
  const top = fileSchema.safeParse(doc);
  const problems = [
    ...(top.success ? [] : issueTexts(top.error, doc, (p) => fieldPath("", p) || "(file)")),
    ...coinKeyProblems(valueAt(doc, ["market", "underlyings"]), "market.underlyings"),
    ...coinKeyProblems(valueAt(doc, ["cash"]), "cash"),
  ];
  if (!top.success || problems.length > 0) throw new BookFileError(path, problems);
  const positions: Position[] = [];
  const rejected: PortfolioRowRejection[] = [];
  top.data.positions.forEach((raw, i) => {
    const r = parsePortfolioRow(raw, `positions[${i}]`);
    if (r.ok) positions.push(r.position);
    else rejected.push({ row: i, reason: r.reason });
  });
  return {
    positions,
    rejected,
    rowsRead: top.data.positions.length,
    ...(top.data.cash ? { cash: top.data.cash } : {}),
    ...(top.data.market
      ? { market: riskMarketFromPortfolioData(top.data.market), marketData: top.data.market }
      : {}),
  };
}

/** The columns a CSV book may have. */
export const BOOK_CSV_COLUMNS = [
  "instrument",
  "type",
  "name",
  "underlying",
  "kind",
  "strike",
  "expiry",
  "settlement",
  "contractSize",
  "quantity",
  "entryPrice",
  "start",
  "strikeVol",
  "tickSize",
] as const;
const CSV_NUMERIC = new Set(["strike", "contractSize", "quantity", "entryPrice", "strikeVol", "tickSize"]);
/** Columns whose empty cell means "absent" (the field is optional, or another row type's). */
const CSV_OPTIONAL = new Set([
  "name",
  "settlement",
  "contractSize",
  "entryPrice",
  "start",
  "strikeVol",
  "tickSize",
  "kind",
  "strike",
]);

/** One CSV record as the row object the zod schemas read: numbers parsed strictly, else left as text. */
function csvRow(rec: Record<string, string>): Record<string, unknown> {
  const named = (rec.instrument ?? "") !== "";
  const row: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rec)) {
    if (named && k !== "instrument" && k !== "quantity" && k !== "entryPrice") continue;
    if (!named && k === "instrument") continue;
    if (v === "" && CSV_OPTIONAL.has(k)) continue;
    if (CSV_NUMERIC.has(k)) row[k] = parseCsvNumber(v) ?? v;
    else if (k === "expiry" || k === "start") {
      if (v === "" && k === "expiry" && rec.type === "future") row.expiry = null;
      else row[k] = /^\d+$/.test(v) ? Number(v) : v;
    } else row[k] = v;
  }
  return row;
}

/**
 * Parses a CSV book text (header row required; see the module comment). Bad rows are returned in
 * `rejected` with their line; a bad header or malformed CSV throws a BookFileError.
 */
export function parsePortfolioCsv(text: string, path = "(book)"): PortfolioFile {
  let header: string[] = [];
  let records: { record: Record<string, string>; info: { lines: number } }[];
  try {
    records = parse(text, {
      columns: (h: string[]) => {
        header = h.map((c) => c.trim());
        return header;
      },
      skip_empty_lines: true,
      trim: true,
      bom: true,
      info: true,
    }) as unknown as { record: Record<string, string>; info: { lines: number } }[];
  } catch (e) {
    throw new BookFileError(path, [`not valid CSV (${(e as Error).message.split("\n")[0]})`]);
  }
  if (header.length === 0) throw new BookFileError(path, ["empty CSV: expected a header row"]);
  const known = new Set<string>(BOOK_CSV_COLUMNS);
  const problems = header
    .filter((c) => !known.has(c))
    .map((c) => `unknown column ${JSON.stringify(c)} (expected ${BOOK_CSV_COLUMNS.join(", ")})`);
  if (!header.includes("quantity")) problems.push("the header has no quantity column");
  if (!header.includes("instrument") && !header.includes("type"))
    problems.push("the header has neither an instrument nor a type column");
  if (problems.length > 0) throw new BookFileError(path, [`CSV header: ${problems.join("; ")}`]);
  const positions: Position[] = [];
  const rejected: PortfolioRowRejection[] = [];
  for (const { record, info } of records) {
    const r = parsePortfolioRow(csvRow(record), `line ${info.lines}`);
    if (r.ok) positions.push(r.position);
    else rejected.push({ row: info.lines, reason: r.reason });
  }
  return { positions, rejected, rowsRead: records.length };
}

/** Loads a .json or .csv book file (BookFileError on a malformed file; bad rows in `rejected`). */
export async function loadPortfolioFile(path: string): Promise<PortfolioFile> {
  const text = await readInputText(path, "book file");
  return path.toLowerCase().endsWith(".csv") ? parsePortfolioCsv(text, path) : parsePortfolioJson(text, path);
}

/**
 * Throws a BookFileError listing every rejected row of `file` ("book X: 2 bad rows:
 * positions[0].quantity: expected a number, got true; ..."); returns when there is none.
 */
export function assertCleanBook(file: PortfolioFile, path: string): void {
  const n = file.rejected.length;
  if (n === 0) return;
  const problems = file.rejected.map((r) => r.reason);
  throw new BookFileError(
    path,
    problems,
    `book ${path}: ${n} bad row${n === 1 ? "" : "s"}: ${problems.join("; ")}`,
  );
}
