/**
 * The demo's book risk sections (pure, each from the valued book of web/bookMarket.ts): greeks by
 * underlying and bucket, the spot x vol scenario grid, the stress library, margin.
 */
import { compileBook, scenarioPortfolioPnl } from "../../core/risk/grid.js";
import { linspace, scenarioGrid } from "../../core/risk/scenario.js";
import { runStress } from "../../core/risk/stress.js";
import { STRESS_LIBRARY } from "../../core/risk/stressLibrary.js";
import { bookGreeks, bookMargin, GREEK_UNITS, MARGIN_UNITS, type ValuedBook } from "../bookMarket.js";
import type { DemoReport } from "../report.js";

type Section<K extends keyof DemoReport> = NonNullable<DemoReport[K]>;

/** Greeks by underlying and expiry bucket, the totals (USD) and their units. */
export function greeksSection(book: ValuedBook): Section<"greeks"> {
  const { greeks: g, byUnderlying } = bookGreeks(book);
  const rows: Section<"greeks">["rows"] = [];
  for (const [u, buckets] of Object.entries(g.byUnderlyingBucket))
    for (const [bucket, x] of Object.entries(buckets))
      rows.push({
        underlying: u,
        bucket,
        cashDeltaUsd: x.cashDeltaUsd,
        cashGammaUsd: x.cashGammaUsd,
        vegaUsd: x.vegaUsd,
        thetaUsdPerDay: x.thetaUsdPerDay,
      });
  return { rows, totalUsd: { ...g.totalUsd }, byUnderlying, units: { ...GREEK_UNITS } };
}

/** Book P&L on the spot -30%..+30% x vol -20..+20 pts grid: row i = vol shock i, column j = spot shock j. */
export function scenarioSection(book: ValuedBook): Section<"scenarios"> {
  const spotShocks = linspace(-0.3, 0.3, 13);
  const volShocks = linspace(-0.2, 0.2, 9);
  const pnl = scenarioPortfolioPnl(
    compileBook(book.positions, book.market),
    scenarioGrid({ spotShifts: spotShocks, volShifts: volShocks }),
  );
  // scenarioGrid is spot-outer, vol-inner.
  return {
    spotShocks,
    volShocks,
    pnl: volShocks.map((_, i) => spotShocks.map((_, j) => pnl[j * volShocks.length + i] ?? Number.NaN)),
  };
}

/** The stress library's scenarios on the book. */
export function stressSection(book: ValuedBook): Section<"stress"> {
  return runStress({ positions: book.positions, market: book.market, entries: STRESS_LIBRARY }).map((r) => ({
    id: r.id,
    kind: r.kind,
    spotShift: r.scenario.spotShift,
    volShift: r.scenario.volShift,
    pnlUsd: r.pnlUsd,
    closeCostUsd: r.closeCostUsd,
    stressedLossUsd: r.stressedLossUsd,
  }));
}

/**
 * The figures `volfolio margin` prints, by the same function (web/bookMarket.ts bookMargin):
 * standard and portfolio margin with its components per settlement currency, account equity
 * (cash, settled expired legs and positions) and the distance to liquidation by full revaluation
 * per segregated account and pooled. `bookNotes`: what was left out, for the book section.
 */
export function marginSection(book: ValuedBook): { section: Section<"margin">; bookNotes: string[] } {
  const m = bookMargin(book);
  const bookNotes = [
    ...m.account.unpriced.map((x) => `${x.amount} ${x.currency} left out of equity: ${x.reason}`),
    ...m.unpriced
      .filter((l) => / maintenance margin /.test(l))
      .map((line) => `${line}: left out of the USD sum`),
  ];
  const section: Section<"margin"> = {
    // initial / maintenance: the standard margin, as this section always showed it.
    byCurrency: m.byCurrency.map((r) => ({ ...r, initial: r.stdInitial, maintenance: r.stdMaintenance })),
    accounts: m.accounts,
    equityUsd: m.equityUsd,
    maintenanceUsd: m.portfolioMaintenanceUsd,
    portfolioInitialUsd: m.portfolioInitialUsd,
    portfolioMaintenanceUsd: m.portfolioMaintenanceUsd,
    standardInitialUsd: m.standardInitialUsd,
    standardMaintenanceUsd: m.standardMaintenanceUsd,
    unpriced: m.unpriced,
    liquidation: { ...m.liquidation },
    liquidationByAccount: m.liquidationByAccount,
    liquidationMargin: m.liquidationMargin,
    units: { ...MARGIN_UNITS },
  };
  return { section, bookNotes };
}
