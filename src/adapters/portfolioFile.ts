/**
 * Portfolio (book) files, validated with zod: JSON or CSV.
 *
 * JSON: { "positions": [ROW...], "cash"?: { "BTC": 1.5 }, "market"?: MARKET }
 * ROW: either { "instrument": "BTC-27MAR26-90000-C", "quantity": -5, "entryPrice"?: 0.05 }
 *   (Deribit name, parsed by core/instruments/names.ts) or explicit fields
 *   { "type": "option", "underlying": "BTC", "kind": "call", "strike": 90000,
 *     "expiry": "2026-03-27T08:00:00Z" | epoch ms, "settlement": "inverse", "contractSize"?: 1,
 *     "quantity": -5 } / { "type": "future", "underlying": "BTC", "expiry": null | ..., ... }.
 * MARKET (optional, for CLI runs without a live chain): { "valuationTime": ISO | ms,
 *   "underlyings": { "BTC": { "indexPrice": 100000, "atmVol": 0.55, "skew"?: -0.1,
 *   "curvature"?: 0.3, "termSlope"?: 0, "forwards"?: [{ "expiry": ISO | ms, "forward": 101000 }] } } }
 *   giving a parametric surface vol(k, T) = atmVol + skew k + curvature k^2 + termSlope sqrt(T)
 *   floored at 0.05 (a stand-in until a fitted surface is supplied).
 * CSV: header with `instrument,quantity[,entryPrice]` or the explicit field names.
 * Bad rows are returned with their index/line and reason (accepted + rejected = rows read).
 */
import { readInputText } from "./inputFile.js";
import { parse } from "csv-parse/sync";
import { z } from "zod";
import type { Instrument, Position } from "../core/instruments/types.js";
import { parseInstrumentName } from "../core/instruments/names.js";
import type { RiskMarket, UnderlyingMarket } from "../core/risk/market.js";
import type { VolSurface } from "../core/surface/types.js";

const instant = z.union([
  z.number().int(),
  z.string().transform((s, ctx) => {
    const t = Date.parse(s);
    if (Number.isNaN(t)) {
      ctx.addIssue({ code: "custom", message: `"${s}" is not an ISO date-time` });
      return z.NEVER;
    }
    return t;
  }),
]);
const num = z.coerce.number().finite();

const namedRow = z.object({
  instrument: z.string().min(1),
  quantity: num,
  entryPrice: num.positive().optional(),
});
const optionRow = z.object({
  type: z.literal("option"),
  name: z.string().optional(),
  underlying: z.string().min(1),
  kind: z.enum(["call", "put"]),
  strike: num.positive(),
  expiry: instant,
  settlement: z.enum(["inverse", "linear"]).default("inverse"),
  contractSize: num.positive().optional(),
  quantity: num,
  entryPrice: num.positive().optional(),
});
const futureRow = z.object({
  type: z.literal("future"),
  name: z.string().optional(),
  underlying: z.string().min(1),
  expiry: z.union([z.null(), instant]).default(null),
  settlement: z.enum(["inverse", "linear"]).default("inverse"),
  contractSize: num.positive().optional(),
  quantity: num,
  entryPrice: num.positive().optional(),
});

const marketSchema = z.object({
  valuationTime: instant,
  underlyings: z.record(
    z.string(),
    z.object({
      indexPrice: num.positive(),
      atmVol: num.positive(),
      skew: num.default(0),
      curvature: num.default(0),
      termSlope: num.default(0),
      forwards: z.array(z.object({ expiry: instant, forward: num.positive() })).default([]),
    }),
  ),
});

const fileSchema = z.object({
  positions: z.array(z.unknown()),
  cash: z.record(z.string(), num).optional(),
  market: marketSchema.optional(),
});

export interface PortfolioRowRejection {
  /** 0-based position index (JSON) or 1-based line (CSV, header = 1). */
  readonly row: number;
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

function issues(e: z.ZodError): string {
  return e.issues.map((i) => `${i.path.join(".") || "(row)"}: ${i.message}`).join("; ");
}

/** Parses one row into a Position, or a reason. */
export function parsePortfolioRow(
  raw: unknown,
): { ok: true; position: Position } | { ok: false; reason: string } {
  const obj = (raw ?? {}) as Record<string, unknown>;
  if (typeof obj === "object" && obj !== null && "instrument" in obj) {
    const r = namedRow.safeParse(raw);
    if (!r.success) return { ok: false, reason: issues(r.error) };
    const ins = parseInstrumentName(r.data.instrument);
    if (!ins.ok) return { ok: false, reason: `${ins.reason}: ${ins.message}` };
    return {
      ok: true,
      position: {
        instrument: ins.value,
        quantity: r.data.quantity,
        ...(r.data.entryPrice !== undefined ? { entryPrice: r.data.entryPrice } : {}),
      },
    };
  }
  const r = z.discriminatedUnion("type", [optionRow, futureRow]).safeParse(raw);
  if (!r.success) return { ok: false, reason: issues(r.error) };
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
  return {
    ok: true,
    position: {
      instrument,
      quantity: d.quantity,
      ...(d.entryPrice !== undefined ? { entryPrice: d.entryPrice } : {}),
    },
  };
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
    };
  return { valuationTime: m.valuationTime, underlyings };
}

/** Parses a JSON book text. Throws InvalidInput-style Error on a malformed top level. */
export function parsePortfolioJson(text: string): PortfolioFile {
  const top = fileSchema.safeParse(JSON.parse(text));
  if (!top.success) throw new Error(`portfolio file: ${issues(top.error)}`);
  const positions: Position[] = [];
  const rejected: PortfolioRowRejection[] = [];
  top.data.positions.forEach((raw, i) => {
    const r = parsePortfolioRow(raw);
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

/** Parses a CSV book text (header row required). */
export function parsePortfolioCsv(text: string): PortfolioFile {
  const records = parse(text, { columns: true, skip_empty_lines: true, trim: true }) as Record<
    string,
    string
  >[];
  const positions: Position[] = [];
  const rejected: PortfolioRowRejection[] = [];
  records.forEach((rec, i) => {
    const row: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(rec))
      if (v !== "") row[k] = k === "expiry" && /^\d+$/.test(v) ? Number(v) : v;
    if (row.type === "future" && row.expiry === undefined) row.expiry = null;
    const r = parsePortfolioRow(row);
    if (r.ok) positions.push(r.position);
    else rejected.push({ row: i + 2, reason: r.reason });
  });
  return { positions, rejected, rowsRead: records.length };
}

/** Loads a .json or .csv book file. */
export async function loadPortfolioFile(path: string): Promise<PortfolioFile> {
  const text = await readInputText(path, "book file");
  return path.toLowerCase().endsWith(".csv") ? parsePortfolioCsv(text) : parsePortfolioJson(text);
}
