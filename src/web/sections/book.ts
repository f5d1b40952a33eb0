/**
 * The book the demo's risk sections value and its market (web/bookMarket.ts, the step the CLI's
 * risk, stress, margin and optimize share), and the report's book section (see runDemoPipeline).
 */
import type { PortfolioFile } from "../../adapters/portfolioFile.js";
import type { Position } from "../../core/instruments/types.js";
import type { ChainSnapshot } from "../../core/market/types.js";
import { type ChainMarketInputs, chainMarketInputs } from "../../core/risk/chainMarket.js";
import { DEFAULT_SURFACE_MODEL } from "../../core/surface/calibrate.js";
import {
  describeChains,
  expiredRows,
  neededUnderlyings,
  type ValuedBook,
  valueBookOnBookMarket,
  valueBookOnInputs,
} from "../bookMarket.js";
import { placeDemoBook } from "../demoBook.js";
import type { BookSection } from "../report.js";

const pct = (v: number) => `${(v * 100).toFixed(2)}%`;

export interface BookMarketRequest {
  readonly book: PortfolioFile;
  readonly bookLabel: string;
  readonly placeDefault: boolean;
  readonly bookMarket: boolean;
  readonly chain: ChainSnapshot | undefined;
  /** The chain file's other chains, or the synthetic chains of the book's other underlyings. */
  readonly otherChains: readonly ChainSnapshot[];
  /** Names of the synthetic chains, in needed order (main first). */
  readonly chainLabels?: readonly string[] | undefined;
}

/** The valued book, its report section, and why the risk sections cannot use it (none valued). */
export interface BookOnMarket {
  readonly valued: ValuedBook;
  readonly section: BookSection;
  readonly error?: string;
}

/** The report's book section of a valued book. */
export function bookSection(
  v: ValuedBook,
  o: { label: string; notes: readonly string[]; legs?: string[] | undefined },
): BookSection {
  return {
    label: o.label,
    market: v.label,
    positions: v.bookPositions,
    valued: v.positions.length,
    excluded: v.excluded.map((x) => ({
      instrument: x.instrument,
      quantity: x.quantity,
      reason: x.reason,
      detail: x.detail,
    })),
    expired: expiredRows(v),
    options: v.options.map((x) => ({
      instrument: x.name,
      forwardUsd: x.forward,
      vol: x.vol,
      source: x.source,
      ownMarkVol: x.ownMarkVol,
      ...(x.rejectedQuote
        ? { note: `chain quote rejected (${x.rejectedQuote})` }
        : x.ownMarkVol !== null && Math.abs(x.ownMarkVol - x.vol) > 5e-5
          ? { note: `own mark vol ${pct(x.ownMarkVol)}; out-of-the-money side's ${pct(x.vol)} used` }
          : {}),
    })),
    ...(o.legs ? { legs: o.legs } : {}),
    notes: [...o.notes, ...v.notes],
  };
}

/** --book-market: the book on its file's own market section (parametric surfaces). */
function onOwnMarket(o: BookMarketRequest): BookOnMarket {
  if (!o.book.market) throw new Error("book has no market section (--book-market values the book on it)");
  const valued = valueBookOnBookMarket(o.book);
  const section = bookSection(valued, {
    label: o.bookLabel,
    notes: [
      "parametric surfaces of the market section: vol = atmVol + skew k + curvature k^2 + termSlope sqrt(T)",
    ],
  });
  return { valued, section };
}

/** The sample book's legs placed on each loaded chain by tenor and forward moneyness, opened at its marks. */
function placeSampleBook(
  book: PortfolioFile,
  built: ChainMarketInputs,
  chainOf: (u: string) => ChainSnapshot,
): { positions: Position[]; cash: Record<string, number>; legs: string[]; label: string; note?: string } {
  const template = book.market;
  if (!template) throw new Error("the default demo book has no market section to place it by");
  const positions: Position[] = [];
  const cash: Record<string, number> = {};
  const legs: string[] = [];
  for (const input of built.inputs) {
    const placed = placeDemoBook(
      { positions: book.positions, ...(book.cash ? { cash: book.cash } : {}), market: template },
      chainOf(input.normalized.snapshot.underlying),
      input.normalized.snapshot,
    );
    positions.push(...placed.positions);
    Object.assign(cash, placed.cash);
    legs.push(...placed.legs);
  }
  const placedOn = new Set(built.inputs.map((i) => i.normalized.snapshot.underlying));
  const leftOut = book.positions.filter((p) => !placedOn.has(p.instrument.underlying));
  return {
    positions,
    cash,
    legs,
    label: `default demo book: the ${[...placedOn].join(" and ")} legs of examples/book.json placed on the loaded chain by tenor and forward moneyness, opened at its marks`,
    ...(leftOut.length > 0
      ? {
          note: `sample legs without a loaded chain, not placed: ${leftOut.map((p) => p.instrument.name).join(", ")}`,
        }
      : {}),
  };
}

const VOL_SOURCE_NOTE =
  "option vols: chain-mark = the chain's mark vol at that strike and expiry (out-of-the-money side; an in-the-money option takes it by put-call parity); fitted-surface+mark-residual = strike not quoted on a listed expiry: fitted SVI vol plus the mark-minus-fit residual interpolated between the neighbouring quoted strikes; fitted-surface = expiry not listed (inside the listed range): fitted SVI vol";

/** The chains the book needs: the main chain first, then the others in book order. */
function chainsForBook(o: BookMarketRequest, chain: ChainSnapshot) {
  const needed = neededUnderlyings(o.book.positions, [chain.underlying]);
  const chains = [
    chain,
    ...needed
      .slice(1)
      .map((u) => o.otherChains.find((x) => x.underlying === u))
      .filter((c): c is ChainSnapshot => c !== undefined),
  ];
  return { needed, chains };
}

/** The book on the loaded chains (or on its own market section with `bookMarket`). */
export function bookOnLoadedMarket(o: BookMarketRequest): BookOnMarket {
  if (o.bookMarket) return onOwnMarket(o);
  if (!o.chain) throw new Error("no market to value the book on (see the market step)");
  const { needed, chains } = chainsForBook(o, o.chain);
  const built = chainMarketInputs(chains, { surfaceModel: DEFAULT_SURFACE_MODEL });
  const used = built.inputs.map((i) => i.normalized.snapshot.underlying);
  const chainOf = (u: string): ChainSnapshot => {
    const c = chains.find((x) => x.underlying === u);
    if (!c) throw new Error(`no ${u} chain among the loaded chains`);
    return c;
  };
  const names = o.chainLabels
    ? used.map((u) => o.chainLabels?.[needed.indexOf(u)] ?? `${u} chain`)
    : undefined;
  const label = describeChains(used.map(chainOf), names);
  const placed = o.placeDefault ? placeSampleBook(o.book, built, chainOf) : undefined;
  const notes = placed?.note ? [placed.note] : [];
  const positions = placed ? placed.positions : o.book.positions;
  const cash = placed ? placed.cash : o.book.cash;
  const valued = valueBookOnInputs({
    source: o.chainLabels ? "synthetic" : "chain",
    label,
    positions,
    ...(cash ? { cash } : {}),
    built,
  });
  notes.push(VOL_SOURCE_NOTE);
  if (valued.settled.length > 0)
    notes.push(
      `expired legs settled at the index (delivery price unknown), left out of every figure; their value joins the cash in equity: ${valued.settled.map((x) => x.detail).join("; ")}`,
    );
  const section = bookSection(valued, { label: placed?.label ?? o.bookLabel, notes, legs: placed?.legs });
  if (valued.positions.length > 0) return { valued, section };
  return {
    valued,
    section,
    error: `none of the book's ${positions.length} positions can be valued on the loaded market (${valued.settled.length} expired; first exclusion: ${valued.excluded[0]?.detail ?? "-"})`,
  };
}
