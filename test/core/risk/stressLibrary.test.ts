/**
 * The stress library's historical scenarios against the cited-prices fixture written by
 * scripts/fixtures/stress_history.py (test/fixtures/risk/stress_history.json, read from
 * ../shared/data/prices: BTC-USD_daily.csv, ETH-USD_daily.csv, DVOL_BTC_daily.csv).
 *
 * - Always (no data needed): every historical entry of STRESS_LIBRARY is in the fixture, in the
 *   same order, with the same basis (close-to-close, or previous close to the intraday low), the
 *   same cited prices and the same moves, and its scenario moves BTC, ETH and vol by them.
 * - When ../shared/data is present: the fixture's prices are re-read here from the price files
 *   (this test's own CSV reading, independent of the python script): BTC's start close, end close
 *   or low, the low being the window's lowest, and the close-to-close move beside an intraday low.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { STRESS_LIBRARY } from "../../../src/core/risk/stressLibrary.js";

/** The fixture script prints moves to 4 decimals in its summary (-0.3461, -0.1377, -0.2850). */
const FIXTURE_PRINTED_DIGITS = 4;
/** Library move vs fixture move: both one division of the same cited prices, a few ulps. */
const MOVE_DIGITS = 12;
const MOVE_ABS = 1e-12;
/** Cited prices are the CSV's to the cent: |diff| < 0.005 USD. */
const CENT_DIGITS = 2;
/** Cited prices vs the CSV: the file has more decimals than the cited cents (half a cent + float). */
const CENT_ABS = 0.006;
/** A move from cent-rounded cited prices vs the file's full prices: ~1e-7 relative on crypto prices. */
const CITED_MOVE_DIGITS = 6;

interface FixtureMove {
  file: string;
  startDate: string;
  startClose: number;
  endDate: string;
  endField: "Close" | "Low" | "High";
  endPrice: number;
  move: number;
  endClose?: number;
  closeMove?: number;
}
interface FixtureEvent {
  id: string;
  basis: "close" | "intraday-low";
  btc: FixtureMove;
  eth?: FixtureMove;
  dvol?: FixtureMove;
}
const FIXTURE = resolve(__dirname, "../../fixtures/risk/stress_history.json");
const fixture = JSON.parse(readFileSync(FIXTURE, "utf8")) as { events: FixtureEvent[] };
const PRICES = resolve(__dirname, "../../../..", "shared/data/prices");
const historical = STRESS_LIBRARY.filter((e) => e.kind === "historical");

describe("stress library = the cited-prices fixture (scripts/fixtures/stress_history.py)", () => {
  it("same events, in order, with the same basis; June 2022 and the two intraday lows included", () => {
    expect(historical.map((e) => [e.id, e.history?.basis])).toEqual(
      fixture.events.map((e) => [e.id, e.basis]),
    );
    const june = fixture.events.find((e) => e.id === "3ac-celsius-2022-06") as FixtureEvent;
    expect([june.btc.startDate, june.btc.endDate]).toEqual(["2022-06-10", "2022-06-18"]);
    expect(june.btc.move).toBeCloseTo(-0.3461, FIXTURE_PRINTED_DIGITS);
    const may = fixture.events.find((e) => e.id === "china-ban-2021-05-19") as FixtureEvent;
    expect(may.basis).toBe("intraday-low");
    expect(may.btc.closeMove).toBeCloseTo(-0.1377, FIXTURE_PRINTED_DIGITS);
    expect(may.btc.move).toBeCloseTo(-0.285, FIXTURE_PRINTED_DIGITS);
  });

  it("every cited price and move is the fixture's, and the scenario applies them", () => {
    for (const e of historical) {
      const f = fixture.events.find((x) => x.id === e.id) as FixtureEvent;
      const h = e.history!;
      for (const key of ["btc", "eth", "dvol"] as const) {
        const lib = h[key];
        const fx = f[key];
        expect(lib === undefined, `${e.id} ${key} present`).toBe(fx === undefined);
        if (!lib || !fx) continue;
        expect(
          [lib.file, lib.startDate, lib.startClose, lib.endDate, lib.endPrice],
          `${e.id} ${key}`,
        ).toEqual([fx.file, fx.startDate, fx.startClose, fx.endDate, fx.endPrice]);
        expect(Math.abs(lib.move - fx.move), `${e.id} ${key} move`).toBeLessThan(MOVE_ABS);
      }
      if (f.basis === "intraday-low")
        expect(Math.abs((h.btcCloseMove as number) - (f.btc.closeMove as number))).toBeLessThan(MOVE_ABS);
      expect(e.scenario.spotShift).toBeCloseTo(f.btc.move, MOVE_DIGITS);
      if (f.eth) expect(e.scenario.spotShiftByUnderlying?.ETH).toBeCloseTo(f.eth.move, MOVE_DIGITS);
      if (f.dvol)
        expect(e.scenario.volShift).toBeCloseTo((f.dvol.endPrice - f.dvol.startClose) / 100, MOVE_DIGITS);
      // An intraday crash is applied at once (no time roll); a close-to-close one over its days.
      const days = (Date.parse(f.btc.endDate) - Date.parse(f.btc.startDate)) / 86_400_000;
      expect(e.scenario.timeRollDays ?? 0).toBe(f.basis === "close" ? days : 0);
    }
  });
});

/** Date -> OHLC of a daily file (Yahoo format or Date,Open,High,Low,Close). */
function readDaily(path: string): Map<string, Record<string, number>> {
  const [head, ...lines] = readFileSync(path, "utf8").trim().split("\n");
  const cols = (head as string).split(",");
  const out = new Map<string, Record<string, number>>();
  for (const line of lines) {
    const cells = line.split(",");
    const r: Record<string, number> = {};
    cols.forEach((c, i) => {
      if (c !== "Date") r[c] = Number(cells[i]);
    });
    if (Number.isFinite(r.Close)) out.set(cells[0] as string, r);
  }
  return out;
}

const BTC_FILE = resolve(PRICES, "BTC-USD_daily.csv");
if (!existsSync(BTC_FILE)) console.warn(`stressLibrary.test: file checks skipped, ${BTC_FILE} not found`);

describe.skipIf(!existsSync(BTC_FILE))("the fixture's prices are the files' (read here)", () => {
  for (const key of ["btc", "eth", "dvol"] as const)
    it(`${key}: start close, end close / intraday low / DVOL high, window extreme, close move`, () => {
      const files = new Set(fixture.events.map((e) => e[key]?.file).filter((x) => x !== undefined));
      for (const file of files) {
        const path = resolve(PRICES, file as string);
        if (!existsSync(path)) {
          console.warn(`stressLibrary.test: ${path} not found, ${key} not checked`);
          continue;
        }
        const rows = readDaily(path);
        for (const e of fixture.events) {
          const m = e[key];
          if (!m) continue;
          const start = rows.get(m.startDate) as Record<string, number>;
          const end = rows.get(m.endDate) as Record<string, number>;
          expect(Math.abs((start.Close as number) - m.startClose), `${e.id} start`).toBeLessThan(CENT_ABS);
          expect(Math.abs((end[m.endField] as number) - m.endPrice), `${e.id} end`).toBeLessThan(CENT_ABS);
          if (e.basis === "intraday-low") {
            // The end price is the window's extreme: lowest Low (prices), highest High (DVOL).
            let x = m.endField === "Low" ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
            for (const [d, r] of rows)
              if (d > m.startDate && d <= m.endDate)
                x = m.endField === "Low" ? Math.min(x, r.Low as number) : Math.max(x, r.High as number);
            expect(m.endPrice).toBeCloseTo(x, CENT_DIGITS);
            expect(Math.abs((end.Close as number) - (m.endClose as number))).toBeLessThan(CENT_ABS);
            expect(m.closeMove as number).toBeCloseTo(
              (end.Close as number) / (start.Close as number) - 1,
              CITED_MOVE_DIGITS,
            );
          }
          expect(m.move).toBeCloseTo(
            (end[m.endField] as number) / (start.Close as number) - 1,
            CITED_MOVE_DIGITS,
          );
        }
      }
    });
});
