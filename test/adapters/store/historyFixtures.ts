/** Test files for the history store: a Deribit CSV with a bad row of every kind. */
import { DERIBIT_CSV_COLUMNS, formatDeribitCsvRows } from "../../../src/adapters/deribit/files.js";
import type { ChainSnapshot } from "../../../src/core/market/types.js";

/** A Deribit CSV with good rows and bad rows of every kind the loader rejects, plus loose-but-valid rows. */
export function craftedCsv(): { text: string; expected: Record<string, number> } {
  const t = Date.UTC(2026, 0, 10, 9, 14, 9);
  const inst = (name: string, strike: number, kind: "call" | "put") => ({
    type: "option" as const,
    name,
    underlying: "BTC",
    quote: "USD",
    settlement: "inverse" as const,
    expiry: Date.UTC(2026, 2, 27, 8),
    strike,
    kind,
    contractSize: 1,
  });
  const chain: ChainSnapshot = {
    underlying: "BTC",
    valuationTime: t,
    indexPrice: 90500,
    quotes: [80000, 85000, 90000, 95000, 100000, 105000].flatMap((k) =>
      (["call", "put"] as const).map((kind) => ({
        instrument: inst(`BTC-27MAR26-${k}-${kind === "call" ? "C" : "P"}`, k, kind),
        timestamp: t,
        bid: 0.01,
        ask: 0.011,
        mark: 0.0105,
        markIv: 0.5,
        underlyingPrice: 91200.5,
        underlyingName: "BTC-27MAR26",
        openInterest: 10,
        volume: 1,
      })),
    ),
    futures: [
      {
        name: "BTC-27MAR26",
        underlying: "BTC",
        expiry: Date.UTC(2026, 2, 27, 8),
        timestamp: t,
        mark: 91200.5,
      },
    ],
  };
  const rows = formatDeribitCsvRows(chain).map((r) => r.split(","));
  const clean = rows.map((r) => [...r]);
  const col = (c: string) => DERIBIT_CSV_COLUMNS.indexOf(c as (typeof DERIBIT_CSV_COLUMNS)[number]);
  const set = (i: number, c: string, v: string) => {
    (rows[i] as string[])[col(c)] = v;
  };
  // invalid-field
  set(0, "bid_price", "abc");
  set(1, "option_type", "straddle");
  set(2, "strike", "");
  set(3, "timestamp", "yesterday");
  set(4, "index_price", "1e400");
  // bad-instrument-name
  set(5, "instrument_name", "NOT-A-NAME");
  // name-mismatch (strike, type, currency)
  set(6, "strike", "86000");
  set(7, "option_type", rows[7]?.[col("option_type")] === "call" ? "put" : "call");
  set(8, "currency", "ETH");
  // missing-index
  set(9, "index_price", "");
  // accepted by the loader's loose rules only: " 0.0101" (blank), "1e-2" is strict anyway, "+0.0102"
  set(10, "bid_price", " 0.0101");
  set(11, "underlying_name", "  BTC-27MAR26  ");
  const lines = rows.map((r) => r.join(","));
  // a future name (bad-instrument-name: not an option) and a timestamp outlier
  lines.push(lines[10]?.replace(/BTC-27MAR26-95000-C|BTC-27MAR26-[0-9]+-[CP]/, "BTC-27MAR26") ?? "");
  lines.push(lines[11]?.replace(/^[^,]+/, "2100-01-01T00:00:00+00:00") ?? "");
  // a short row (relaxed column count: missing fields)
  lines.push((lines[3] ?? "").split(",").slice(0, 5).join(","));
  // number forms DuckDB's cast reads and the loader does not, and forms only the loader's looser
  // rules accept (each on a clean copy of a row)
  const variant = (i: number, c: string, v: string) => {
    const r = [...(clean[i] ?? [])];
    r[col(c)] = v;
    lines.push(r.join(","));
  };
  variant(0, "bid_price", "1_000"); // invalid-field
  variant(1, "mark_price", "inf"); // invalid-field
  variant(2, "implied_volatility", "nan"); // invalid-field
  variant(3, "open_interest", "1e400"); // invalid-field
  variant(4, "strike", "-5"); // invalid-field
  variant(5, "currency", ""); // invalid-field
  variant(6, "strike", "0x10"); // Number() reads 16: name-mismatch
  variant(7, "volume", "   "); // empty: accepted
  // an offset without a colon: Date.parse reads it (accepted)
  variant(8, "timestamp", (clean[8]?.[col("timestamp")] ?? "").replace(/(Z|[+]00:00)$/, "+0000"));
  variant(9, "option_type", " call"); // trimmed: accepted (or name-mismatch for a put)
  const text = `${DERIBIT_CSV_COLUMNS.join(",")}\n${lines.join("\n")}\n`;
  return {
    text,
    expected: {
      "invalid-field": 12,
      "bad-instrument-name": 2,
      "name-mismatch": 4 + (clean[9]?.[col("option_type")] === "put" ? 1 : 0),
      "missing-index": 1,
      "timestamp-outlier": 1,
    },
  };
}
