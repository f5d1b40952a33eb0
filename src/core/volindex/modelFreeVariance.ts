/**
 * Model-free implied variance of one expiry, by the CBOE VIX method (Cboe VIX White Paper,
 * 2019, "The VIX Index Calculation: Step-by-Step"):
 *
 *   sigma^2 = (2/T) sum_i (dK_i / K_i^2) e^{RT} Q(K_i) - (1/T) (F/K0 - 1)^2
 *
 * F = K* + e^{RT} (C(K*) - P(K*)) at the strike K* where |C - P| of the mid quotes is smallest;
 * K0 = the strike immediately below F; out-of-the-money puts below K0 and calls above K0, each
 * walked outward from K0, skipping zero bids and stopping after two consecutive zero bids;
 * Q(K0) = average of the K0 put and call mids; dK_i = half the distance between the neighbours
 * (one-sided at the ends of the strip).
 *
 * Units: strikes and prices in the same currency (USD for crypto: convert coin-quoted inverse
 * option prices first, see `volIndex.ts`); T in years; R continuous per year (crypto: 0).
 */
import { InvalidInputError } from "../errors.js";

/** One strike of a listed expiry: call and put bid/ask (a missing quote is null). */
export interface StrikeQuotes {
  readonly strike: number;
  readonly callBid: number | null;
  readonly callAsk: number | null;
  readonly putBid: number | null;
  readonly putAsk: number | null;
}

export interface ExpiryVarianceInputs {
  readonly quotes: readonly StrikeQuotes[];
  /** Time to expiry in years. */
  readonly timeToExpiry: number;
  /** Continuous risk-free rate per year (decimal); default 0. */
  readonly rate?: number;
  /**
   * Forward to use instead of the put-call parity estimate (e.g. the venue's future). The
   * VIX method derives F from parity; Deribit's DVOL uses the expiry's forward.
   */
  readonly forward?: number;
}

/** One option used in the strip. */
export interface StrikeContribution {
  readonly strike: number;
  readonly kind: "put" | "call" | "put-call-average";
  /** Mid price used, Q(K). */
  readonly mid: number;
  /** dK. */
  readonly strikeWidth: number;
  /** dK / K^2 e^{RT} Q(K). */
  readonly contribution: number;
}

export interface ExpiryVariance {
  readonly timeToExpiry: number;
  readonly forward: number;
  /** Strike where |C - P| was smallest (null when the forward was given). */
  readonly parityStrike: number | null;
  /** First strike below the forward. */
  readonly k0: number;
  /** Annualized model-free variance sigma^2 (decimal^2 per year). */
  readonly variance: number;
  /** (1/T)(F/K0 - 1)^2, the discretisation correction subtracted. */
  readonly correction: number;
  readonly contributions: readonly StrikeContribution[];
  /** Strikes listed but not used (zero bid, beyond two consecutive zero bids, one-sided). */
  readonly excluded: number;
}

export type ExpiryVarianceFailure = "too-few-strikes" | "no-parity-pair" | "forward-below-strikes";

const mid = (bid: number | null, ask: number | null): number | null =>
  bid !== null && ask !== null && Number.isFinite(bid) && Number.isFinite(ask) ? (bid + ask) / 2 : null;

/** One option picked for a strip, before its strike width. */
export interface StripPick {
  readonly strike: number;
  readonly kind: StrikeContribution["kind"];
  readonly mid: number;
}

/**
 * The strike contributions dK_i / K_i^2 e^{RT} Q(K_i) of a strip sorted by strike (Cboe white
 * paper, step 2): dK_i = half the distance between the strip's neighbours, one-sided at its ends
 * (0 for a one-strike strip). Shared by the Cboe and the DVOL methods.
 */
export function stripContributions(strip: readonly StripPick[], growth = 1): StrikeContribution[] {
  return strip.map((p, i) => {
    const lower = strip[i - 1]?.strike ?? null;
    const upper = strip[i + 1]?.strike ?? null;
    const strikeWidth =
      lower !== null && upper !== null
        ? (upper - lower) / 2
        : upper !== null
          ? upper - p.strike
          : lower !== null
            ? p.strike - lower
            : 0;
    return {
      strike: p.strike,
      kind: p.kind,
      mid: p.mid,
      strikeWidth,
      contribution: (strikeWidth / (p.strike * p.strike)) * growth * p.mid,
    };
  });
}

/**
 * The options that replicate `notional` x the strip's variance (Demeterfi-Derman-Kamal-Zou): at each
 * strike notional x 2 dK / (T K^2) units of the underlying, the strike at K0 split half put / half
 * call (put first). Units follow `notional`: 1 gives units per unit of decimal variance.
 */
export function stripQuantities(
  contributions: readonly Pick<StrikeContribution, "strike" | "kind" | "strikeWidth">[],
  timeToExpiry: number,
  notional: number,
): { strike: number; kind: "put" | "call"; quantity: number }[] {
  const out: { strike: number; kind: "put" | "call"; quantity: number }[] = [];
  for (const c of contributions) {
    const w = (notional * 2 * c.strikeWidth) / (timeToExpiry * c.strike * c.strike);
    if (c.kind === "put-call-average")
      out.push(
        { strike: c.strike, kind: "put", quantity: w / 2 },
        { strike: c.strike, kind: "call", quantity: w / 2 },
      );
    else out.push({ strike: c.strike, kind: c.kind, quantity: w });
  }
  return out;
}

/** Step 1a: F = K* + e^{RT}(C - P) at the strike K* with the smallest |C - P| of the mids. */
function parityForward(
  quotes: readonly StrikeQuotes[],
  growth: number,
): { forward: number; parityStrike: number } | null {
  let best = Number.POSITIVE_INFINITY;
  let found: { forward: number; parityStrike: number } | null = null;
  for (const q of quotes) {
    const c = mid(q.callBid, q.callAsk);
    const p = mid(q.putBid, q.putAsk);
    if (c === null || p === null || !(Math.abs(c - p) < best)) continue;
    best = Math.abs(c - p);
    found = { forward: q.strike + growth * (c - p), parityStrike: q.strike };
  }
  return found;
}

/**
 * Steps 1c-1d: out-of-the-money options walked outward from K0 (`step` -1: puts below, +1: calls
 * above), a zero bid skipped, the walk stopped after two consecutive zero bids; nearest first.
 */
function walkOutOfTheMoney(quotes: readonly StrikeQuotes[], k0Index: number, step: 1 | -1): StripPick[] {
  const kind = step < 0 ? "put" : "call";
  const picks: StripPick[] = [];
  let zeroRun = 0;
  for (let i = k0Index + step; i >= 0 && i < quotes.length && zeroRun < 2; i += step) {
    const q = quotes[i];
    if (!q) break;
    const [bid, ask] = kind === "put" ? [q.putBid, q.putAsk] : [q.callBid, q.callAsk];
    if (!(bid !== null && bid > 0)) {
      zeroRun++;
      continue;
    }
    zeroRun = 0;
    const m = mid(bid, ask);
    if (m !== null) picks.push({ strike: q.strike, kind, mid: m });
  }
  return picks;
}

/** Step 1e: at K0 the average of the put and call mids (one side when the other has no mid). */
function atTheMoneyPick(q: StrikeQuotes): StripPick[] {
  const c = mid(q.callBid, q.callAsk);
  const p = mid(q.putBid, q.putAsk);
  if (c !== null && p !== null) return [{ strike: q.strike, kind: "put-call-average", mid: (c + p) / 2 }];
  if (p !== null) return [{ strike: q.strike, kind: "put", mid: p }];
  if (c !== null) return [{ strike: q.strike, kind: "call", mid: c }];
  return [];
}

function validateInputs(inputs: ExpiryVarianceInputs): { T: number; R: number } {
  const T = inputs.timeToExpiry;
  if (!(T > 0) || !Number.isFinite(T))
    throw new InvalidInputError("timeToExpiry", T, "must be a finite number > 0");
  const R = inputs.rate ?? 0;
  if (!Number.isFinite(R)) throw new InvalidInputError("rate", R, "must be a finite number");
  for (const q of inputs.quotes) {
    if (!(q.strike > 0) || !Number.isFinite(q.strike)) {
      throw new InvalidInputError("quotes[].strike", q.strike, "must be a finite number > 0");
    }
  }
  if (inputs.forward !== undefined && !(inputs.forward > 0))
    throw new InvalidInputError("forward", inputs.forward, "must be a finite number > 0");
  return { T, R };
}

type Failure = { ok: false; reason: ExpiryVarianceFailure; message: string };

/** Computes the VIX-method variance of one expiry; an expected failure is returned as a reason. */
export function expiryVariance(inputs: ExpiryVarianceInputs): { ok: true; value: ExpiryVariance } | Failure {
  const { T, R } = validateInputs(inputs);
  const quotes = [...inputs.quotes].sort((a, b) => a.strike - b.strike);
  if (quotes.length < 3)
    return {
      ok: false,
      reason: "too-few-strikes",
      message: `${quotes.length} strikes listed, need at least 3`,
    };
  const growth = Math.exp(R * T);
  const parity = inputs.forward === undefined ? parityForward(quotes, growth) : null;
  if (inputs.forward === undefined && parity === null)
    return { ok: false, reason: "no-parity-pair", message: "no strike has both call and put mid quotes" };
  const forward = inputs.forward ?? parity?.forward ?? Number.NaN;
  // Step 1b: K0, the strike immediately below F (at or below, when F is itself listed).
  let k0Index = -1;
  for (const [i, q] of quotes.entries()) if (q.strike <= forward) k0Index = i;
  const atK0 = quotes[k0Index];
  if (!atK0)
    return {
      ok: false,
      reason: "forward-below-strikes",
      message: `forward ${forward} is below every strike`,
    };
  const strip = [
    ...walkOutOfTheMoney(quotes, k0Index, -1).reverse(),
    ...atTheMoneyPick(atK0),
    ...walkOutOfTheMoney(quotes, k0Index, 1),
  ];
  if (strip.length < 2)
    return {
      ok: false,
      reason: "too-few-strikes",
      message: `only ${strip.length} usable out-of-the-money quotes`,
    };
  // Step 2: contributions and the variance.
  const contributions = stripContributions(strip, growth);
  let total = 0;
  for (const c of contributions) total += c.contribution;
  const correction = (forward / atK0.strike - 1) ** 2 / T;
  return {
    ok: true,
    value: {
      timeToExpiry: T,
      forward,
      parityStrike: parity?.parityStrike ?? null,
      k0: atK0.strike,
      variance: (2 / T) * total - correction,
      correction,
      contributions,
      excluded: quotes.length - strip.length,
    },
  };
}
