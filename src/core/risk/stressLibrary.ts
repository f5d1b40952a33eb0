/**
 * Stress library as data: historical crypto crashes and hypothetical shocks (each a Scenario).
 *
 * Spot moves of the historical events are computed by scripts/fixtures/stress_history.py from
 * BTC-USD daily closes (Yahoo Finance, ../shared/data/prices/BTC-USD_daily.csv), close-to-close
 * over the stated window (`worstLowMove`: to the lowest intraday low inside the window):
 *   covid-2020-03-12     2020-03-11 -> 2020-03-12   7911.43 -> 4970.79    -37.17% (low -38.57%)
 *   china-ban-2021-05-19 2021-05-18 -> 2021-05-19   42909.40 -> 37002.44  -13.77% (low -28.50%)
 *   luna-2022-05         2022-05-05 -> 2022-05-12   36575.14 -> 29047.75  -20.58% (low -27.96%)
 *   ftx-2022-11          2022-11-07 -> 2022-11-09   20602.82 -> 15880.78  -22.92% (low -23.88%)
 *
 * ASSUMPTIONS (no option data in ../shared/data for these dates): ATM vol moves are rounded from
 * published Deribit BTC DVOL / ATM implied vol levels around each event (DVOL exists from March
 * 2021; for March 2020 the ~60% -> ~130%+ move of Deribit 1-month ATM vol reported at the time);
 * skew moves (skewTwist, vol per unit of -ln K/F) are judgement calls sized so that 25-delta
 * risk reversals move by several vol points toward puts, as observed in every crash. ETH has no
 * price file here: its move is taken as 1.2 x BTC's (ETH's beta to BTC in these sell-offs was
 * about 1.1-1.4). Treat vol and skew numbers as documented assumptions, not measurements.
 */
import type { Scenario } from "./scenario.js";

/** One library entry: a scenario plus where its numbers come from. */
export interface StressEntry {
  readonly id: string;
  readonly kind: "historical" | "hypothetical";
  readonly description: string;
  readonly scenario: Scenario;
  /** Source / window of the spot move and the vol/skew assumption. */
  readonly source: string;
}

/** ETH move = ETH_BETA x BTC move in the historical scenarios (assumption, see above). */
export const STRESS_ETH_BETA = 1.2;

function hist(o: {
  id: string;
  description: string;
  spotMove: number;
  volShift: number;
  skewTwist: number;
  termTwist: number;
  days: number;
  source: string;
}): StressEntry {
  return {
    id: o.id,
    kind: "historical",
    description: o.description,
    source: o.source,
    scenario: {
      name: o.id,
      spotShift: o.spotMove,
      spotShiftByUnderlying: { ETH: Math.max(STRESS_ETH_BETA * o.spotMove, -0.95) },
      volShift: o.volShift,
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
    description: "COVID crash (Black Thursday)",
    spotMove: -0.3717,
    volShift: 0.7,
    skewTwist: 0.3,
    termTwist: 0.15,
    days: 1,
    source:
      "BTC close 2020-03-11 7911.43 -> 2020-03-12 4970.79 (BTC-USD_daily.csv); ATM vol ~60% -> ~130% (assumed)",
  }),
  hist({
    id: "china-ban-2021-05-19",
    description: "China mining/ban sell-off, 19 May 2021",
    spotMove: -0.1377,
    volShift: 0.45,
    skewTwist: 0.25,
    termTwist: 0.1,
    days: 1,
    source:
      "BTC close 2021-05-18 42909.40 -> 2021-05-19 37002.44; DVOL ~90 -> ~135 (published levels, rounded)",
  }),
  hist({
    id: "luna-2022-05",
    description: "Terra/LUNA collapse, May 2022 (one week)",
    spotMove: -0.2058,
    volShift: 0.3,
    skewTwist: 0.15,
    termTwist: 0.05,
    days: 7,
    source:
      "BTC close 2022-05-05 36575.14 -> 2022-05-12 29047.75; DVOL ~65 -> ~95 (published levels, rounded)",
  }),
  hist({
    id: "ftx-2022-11",
    description: "FTX collapse, November 2022 (two days)",
    spotMove: -0.2292,
    volShift: 0.4,
    skewTwist: 0.2,
    termTwist: 0.1,
    days: 2,
    source:
      "BTC close 2022-11-07 20602.82 -> 2022-11-09 15880.78; DVOL ~55 -> ~95 (published levels, rounded)",
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
