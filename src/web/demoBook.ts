/**
 * The default demo book placed on a loaded chain. examples/book.json is dated for the synthetic
 * market of 2 Feb 2026; on another market (a chain file, a live chain) its options may have
 * expired or sit far from the money. This builds the same structure on the loaded chain: each
 * leg of the chain's underlying keeps its kind, settlement, contract size and quantity, and is
 * placed on
 *   the listed expiry nearest in tenor (days from the template's valuation time to its expiry,
 *     against days from the chain's valuation time; ties go to the later expiry), and
 *   the quoted strike (with a mark) of that expiry nearest in forward moneyness ln(K/F) (template F from the
 *     template's market section, chain F from the chain's forwards).
 * Perpetuals stay perpetuals; a dated future goes to the chain's dated future nearest in tenor
 * (else the option expiry nearest in tenor). Inverse futures (USD contracts) are rescaled by
 * index_chain / index_template to keep their coin exposure (the delta hedge of the options).
 * Entry prices are dropped: the book is opened at the loaded market (futures at the forward).
 * Cash is kept for the chain's coin and USD/USDC.
 */
import { formatDeribitExpiry, deribitOptionName } from "../core/instruments/names.js";
import type { Position } from "../core/instruments/types.js";
import type { ChainSnapshot, MarketSnapshot } from "../core/market/types.js";
import { forwardAtExpiry, type RiskMarket } from "../core/risk/market.js";
import { DAY_MS, timeToExpiry } from "../core/time.js";

export interface DemoBookTemplate {
  readonly positions: readonly Position[];
  readonly cash?: Readonly<Record<string, number>>;
  /** The template's own market (valuation time, index, forwards): where its tenors and moneyness come from. */
  readonly market: RiskMarket;
}

export interface PlacedDemoBook {
  readonly positions: Position[];
  readonly cash: Record<string, number>;
  /** Template leg -> placed leg, e.g. "BTC-27MAR26-110000-C -> BTC-26DEC25-120000-C". */
  readonly legs: string[];
}

/** The element of least cost (the last of equals); throws naming `what` when there is none. */
const nearest = <T>(xs: readonly T[], cost: (x: T) => number, what: string): T => {
  let best: T | undefined;
  let bestCost = Number.POSITIVE_INFINITY;
  for (const x of xs) {
    const c = cost(x);
    if (c <= bestCost) {
      best = x;
      bestCost = c;
    }
  }
  if (best === undefined) throw new Error(`the chain has no ${what} to place the demo book on`);
  return best;
};

/**
 * Places the template's legs of `chain.underlying` on the chain (see the module comment).
 * `snapshot` is the normalized chain (forwards per expiry and clean quotes). Throws an Error
 * when the template has no leg of that underlying or the chain lists no quoted expiry.
 */
export function placeDemoBook(
  template: DemoBookTemplate,
  chain: ChainSnapshot,
  snapshot: MarketSnapshot,
): PlacedDemoBook {
  const u = chain.underlying;
  const t0 = template.market.valuationTime;
  const tm = template.market.underlyings[u];
  const mine = template.positions.filter((p) => p.instrument.underlying === u);
  if (!tm || mine.length === 0)
    throw new Error(`the default demo book has no ${u} legs to place on the ${u} chain; pass --book FILE`);
  const t = snapshot.valuationTime;
  const strikesByExpiry = new Map<number, number[]>();
  for (const q of snapshot.quotes) {
    // Strikes with a mark, so every placed option is valued at its chain mark.
    if (q.markVol === null && !(typeof q.markIv === "number" && q.markIv > 0)) continue;
    const e = q.instrument.expiry;
    const list = strikesByExpiry.get(e) ?? [];
    if (!list.includes(q.instrument.strike)) list.push(q.instrument.strike);
    strikesByExpiry.set(e, list);
  }
  const forwardOf = new Map(snapshot.forwards.map((f) => [f.expiry, f.forward]));
  const optionExpiries = snapshot.forwards.map((f) => f.expiry).filter((e) => strikesByExpiry.has(e));
  if (optionExpiries.length === 0) throw new Error(`the ${u} chain lists no quoted expiry after ${t}`);
  const futureExpiries = (chain.futures ?? [])
    .map((f) => f.expiry)
    .filter((e): e is number => e !== null && forwardOf.has(e));
  const byTenor = (expiries: readonly number[], templateExpiry: number) => {
    const days = (templateExpiry - t0) / DAY_MS;
    return nearest(expiries, (e) => Math.abs((e - t) / DAY_MS - days), "expiry");
  };
  const ratio = chain.indexPrice / tm.indexPrice;
  const positions: Position[] = [];
  const legs: string[] = [];
  for (const p of mine) {
    const ins = p.instrument;
    let placed: Position;
    if (ins.type === "option") {
      const expiry = byTenor(optionExpiries, ins.expiry);
      const k0 = Math.log(ins.strike / forwardAtExpiry(tm, t0, ins.expiry));
      const F = forwardOf.get(expiry) ?? Number.NaN; // optionExpiries come from the forwards
      const strike = nearest(
        strikesByExpiry.get(expiry) ?? [],
        (K) => Math.abs(Math.log(K / F) - k0),
        `marked strike at ${formatDeribitExpiry(expiry)}`,
      );
      const name = deribitOptionName({
        underlying: u,
        expiry,
        strike,
        kind: ins.kind,
        linear: ins.settlement === "linear",
      });
      placed = { instrument: { ...ins, name, expiry, strike }, quantity: p.quantity };
    } else if (ins.expiry === null) {
      placed = { instrument: ins, quantity: p.quantity };
    } else {
      const expiry = byTenor(futureExpiries.length > 0 ? futureExpiries : optionExpiries, ins.expiry);
      const name = `${u}${ins.settlement === "linear" ? "_USDC" : ""}-${formatDeribitExpiry(expiry)}`;
      placed = { instrument: { ...ins, name, expiry }, quantity: p.quantity };
    }
    if (ins.type === "future" && ins.settlement === "inverse")
      placed = { ...placed, quantity: Math.round(p.quantity * ratio) };
    positions.push(placed);
    const tenor =
      placed.instrument.expiry === null
        ? ""
        : ` (${(timeToExpiry(placed.instrument.expiry, t) * 365).toFixed(0)}d)`;
    legs.push(`${ins.name} ${p.quantity} -> ${placed.instrument.name} ${placed.quantity}${tenor}`);
  }
  const cash: Record<string, number> = {};
  for (const [cur, amt] of Object.entries(template.cash ?? {}))
    if (cur === u || cur === "USD" || cur === "USDC") cash[cur] = amt;
  return { positions, cash, legs };
}
