/**
 * Stress library as data: historical crypto crashes and hypothetical shocks (each a Scenario).
 *
 * Historical spot moves are computed here from the prices each entry cites, read from
 * ../shared/data/prices (test/core/risk/stressLibrary.test.ts checks every cited price against
 * the files):
 *   BTC: BTC-USD_daily.csv (Yahoo Finance BTC-USD daily OHLC)
 *   ETH: ETH-USD_daily.csv (Binance ETH/USDT daily OHLC, CryptoDataDownload export)
 *   vol: DVOL_BTC_daily.csv (Deribit DVOL, 30-day BTC implied vol index, from 2021-03-24)
 * Basis: a crash that happened inside one day ("intraday-low") moves from the previous day's
 * close to that day's intraday low, with DVOL from the previous close to that day's high and no
 * time roll; a crash over several days ("close") moves close to close over the window, DVOL close
 * to close, time rolled by the window's length:
 *   id                    basis         BTC                                ETH        DVOL (pts)
 *   covid-2020-03-12      intraday-low  03-11 c 7911.43 -> 03-12 l 4860.35   -38.57%  -48.00%    n/a
 *                                       (close 4970.79: -37.17%)
 *   china-ban-2021-05-19  intraday-low  05-18 c 42909.40 -> 05-19 l 30681.50 -28.50%  -44.06%    117.01 -> 144.63
 *                                       (close 37002.44: -13.77%)
 *   luna-2022-05          close         05-05 36575.14 -> 05-12 29047.75     -20.58%  -28.67%    63.13 -> 114.58
 *   3ac-celsius-2022-06   close         06-10 29083.80 -> 06-18 19017.64     -34.61%  -40.16%    72.55 -> 115.03
 *   ftx-2022-11           close         11-07 20602.82 -> 11-09 15880.78     -22.92%  -29.68%    59.48 -> 114.72
 * ASSUMPTIONS: the DVOL move is applied as a parallel shift of every expiry's smile (DVOL is the
 * 30-day index; termTwist adds the short end's larger move); March 2020 predates DVOL, so its
 * +70 points is the ~60% -> ~130% move of Deribit 1-month ATM vol reported at the time; skew and
 * term twists (skewTwist, vol per unit of -ln K/F; termTwist) are judgement calls sized so that
 * 25-delta risk reversals move several vol points toward puts, as in every crash. ETH prices are
 * quoted in USDT (within a few tenths of a percent of USD, except on crash days).
 * STRESS_ETH_BETA (1.2) is the ETH/BTC move ratio used for an event without an ETH record (none
 * at present).
 */
import type { Scenario } from "./scenario.js";
import { requireFinite } from "../errors.js";

/** A cited move of one series over an event window (dates are UTC calendar days). */
export interface CitedMove {
  /** Source file (in ../shared/data/prices). */
  readonly file: string;
  /** Day of the starting close. */
  readonly startDate: string;
  readonly startClose: number;
  /** Day of the ending price. */
  readonly endDate: string;
  /** The close of endDate ("close" basis) or its intraday low ("intraday-low" basis). */
  readonly endPrice: number;
  /** endPrice / startClose - 1. */
  readonly move: number;
}

/** Where a historical entry's numbers come from. */
export interface StressHistory {
  readonly basis: "close" | "intraday-low";
  readonly btc: CitedMove;
  readonly eth?: CitedMove;
  /** DVOL from the start close to the end close ("close") or the event day's high. */
  readonly dvol?: CitedMove;
  /** For an intraday-low event, the close-to-close move the low is compared with. */
  readonly btcCloseMove?: number;
}

/** One library entry: a scenario plus where its numbers come from. */
export interface StressEntry {
  readonly id: string;
  readonly kind: "historical" | "hypothetical";
  readonly description: string;
  readonly scenario: Scenario;
  /** Source / window of the spot move and the vol/skew assumption. */
  readonly source: string;
  /** Historical entries: the cited prices and moves. */
  readonly history?: StressHistory;
}

/** ETH move = ETH_BETA x BTC move for an event without an ETH record (assumption, see above). */
export const STRESS_ETH_BETA = 1.2;

const BTC_FILE = "BTC-USD_daily.csv";
const ETH_FILE = "ETH-USD_daily.csv";
const DVOL_FILE = "DVOL_BTC_daily.csv";

function cited(
  file: string,
  startDate: string,
  startClose: number,
  endDate: string,
  endPrice: number,
): CitedMove {
  return { file, startDate, startClose, endDate, endPrice, move: endPrice / startClose - 1 };
}

function hist(o: {
  id: string;
  description: string;
  basis: "close" | "intraday-low";
  btc: [string, number, string, number];
  btcClose?: number;
  eth?: [string, number, string, number];
  dvol?: [string, number, string, number];
  /** Vol shift (decimal) when there is no DVOL record. */
  volShift?: number;
  skewTwist: number;
  termTwist: number;
  days: number;
  note?: string;
}): StressEntry {
  const btc = cited(BTC_FILE, ...o.btc);
  const eth = o.eth ? cited(ETH_FILE, ...o.eth) : undefined;
  const dvol = o.dvol ? cited(DVOL_FILE, ...o.dvol) : undefined;
  const volShift = dvol
    ? (dvol.endPrice - dvol.startClose) / 100
    : requireFinite(`${o.id}.volShift`, o.volShift);
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  const what = o.basis === "close" ? "close" : "low";
  const source = [
    `BTC close ${btc.startDate} ${btc.startClose} -> ${what} ${btc.endDate} ${btc.endPrice} (${pct(btc.move)}, ${BTC_FILE})`,
    eth
      ? `ETH close ${eth.startDate} ${eth.startClose} -> ${what} ${eth.endDate} ${eth.endPrice} (${pct(eth.move)}, ${ETH_FILE})`
      : `ETH ${STRESS_ETH_BETA} x BTC (assumed)`,
    dvol
      ? `DVOL ${dvol.startClose} -> ${dvol.endPrice} (${DVOL_FILE})`
      : `vol +${(volShift * 100).toFixed(0)} pts (${o.note ?? "assumed"})`,
  ].join("; ");
  return {
    id: o.id,
    kind: "historical",
    description: o.description,
    source,
    history: {
      basis: o.basis,
      btc,
      ...(eth ? { eth } : {}),
      ...(dvol ? { dvol } : {}),
      ...(o.btcClose !== undefined ? { btcCloseMove: o.btcClose / btc.startClose - 1 } : {}),
    },
    scenario: {
      name: o.id,
      spotShift: btc.move,
      spotShiftByUnderlying: { ETH: eth ? eth.move : Math.max(STRESS_ETH_BETA * btc.move, -0.95) },
      volShift,
      skewTwist: o.skewTwist,
      termTwist: o.termTwist,
      timeRollDays: o.days,
      surfaceDynamics: "sticky-moneyness",
    },
  };
}

/** The default stress library. */
export const STRESS_LIBRARY: readonly StressEntry[] = [
  hist({
    id: "covid-2020-03-12",
    description: "COVID crash (Black Thursday), 12 March 2020, to the intraday low",
    basis: "intraday-low",
    btc: ["2020-03-11", 7911.43, "2020-03-12", 4860.35],
    btcClose: 4970.79,
    eth: ["2020-03-11", 194.61, "2020-03-12", 101.2],
    volShift: 0.7,
    note: "Deribit 1-month ATM vol ~60% -> ~130% as reported at the time; no DVOL before 2021-03-24",
    skewTwist: 0.3,
    termTwist: 0.15,
    days: 0,
  }),
  hist({
    id: "china-ban-2021-05-19",
    description: "China mining/ban sell-off, 19 May 2021, to the intraday low",
    basis: "intraday-low",
    btc: ["2021-05-18", 42909.4, "2021-05-19", 30681.5],
    btcClose: 37002.44,
    eth: ["2021-05-18", 3375.07, "2021-05-19", 1888.0],
    dvol: ["2021-05-18", 117.01, "2021-05-19", 144.63],
    skewTwist: 0.25,
    termTwist: 0.1,
    days: 0,
  }),
  hist({
    id: "luna-2022-05",
    description: "Terra/LUNA collapse, May 2022 (one week)",
    basis: "close",
    btc: ["2022-05-05", 36575.14, "2022-05-12", 29047.75],
    eth: ["2022-05-05", 2747.97, "2022-05-12", 1960.22],
    dvol: ["2022-05-05", 63.13, "2022-05-12", 114.58],
    skewTwist: 0.15,
    termTwist: 0.05,
    days: 7,
  }),
  hist({
    id: "3ac-celsius-2022-06",
    description: "Celsius freeze and Three Arrows Capital, June 2022 (eight days)",
    basis: "close",
    btc: ["2022-06-10", 29083.8, "2022-06-18", 19017.64],
    eth: ["2022-06-10", 1662.91, "2022-06-18", 995.13],
    dvol: ["2022-06-10", 72.55, "2022-06-18", 115.03],
    skewTwist: 0.2,
    termTwist: 0.1,
    days: 8,
  }),
  hist({
    id: "ftx-2022-11",
    description: "FTX collapse, November 2022 (two days)",
    basis: "close",
    btc: ["2022-11-07", 20602.82, "2022-11-09", 15880.78],
    eth: ["2022-11-07", 1568.1, "2022-11-09", 1102.73],
    dvol: ["2022-11-07", 59.48, "2022-11-09", 114.72],
    skewTwist: 0.2,
    termTwist: 0.1,
    days: 2,
  }),
  ...(
    [
      ["spot-down-30-vol-up-30", "Spot -30%, vol +30 points", -0.3, 0.3, 0.2],
      ["spot-down-15-vol-up-15", "Spot -15%, vol +15 points", -0.15, 0.15, 0.1],
      ["spot-up-25-vol-up-10", "Spot +25% squeeze, vol +10 points, calls bid", 0.25, 0.1, -0.15],
      ["spot-up-10-vol-down-10", "Spot +10%, vol -10 points", 0.1, -0.1, 0],
      ["vol-crush-20", "Vol -20 points, spot flat", 0, -0.2, 0],
      ["vol-spike-40", "Vol +40 points, spot flat", 0, 0.4, 0.1],
      ["skew-steepen", "Put skew steepens (skewTwist 0.3), spot -5%", -0.05, 0.05, 0.3],
    ] as const
  ).map(
    ([id, description, spotShift, volShift, skewTwist]): StressEntry => ({
      id,
      kind: "hypothetical",
      description,
      source: "hypothetical shock",
      scenario: { name: id, spotShift, volShift, skewTwist, surfaceDynamics: "sticky-moneyness" },
    }),
  ),
  {
    id: "term-inversion",
    kind: "hypothetical",
    description: "Front-end vol spike (termTwist 0.3), spot -10%",
    source: "hypothetical shock",
    scenario: {
      name: "term-inversion",
      spotShift: -0.1,
      volShift: 0.05,
      termTwist: 0.3,
      surfaceDynamics: "sticky-moneyness",
    },
  },
];
