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

/** Computes the VIX-method variance of one expiry; an expected failure is returned as a reason. */
export function expiryVariance(
  inputs: ExpiryVarianceInputs,
): { ok: true; value: ExpiryVariance } | { ok: false; reason: ExpiryVarianceFailure; message: string } {
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
  const quotes = [...inputs.quotes].sort((a, b) => a.strike - b.strike);
  if (quotes.length < 3) {
    return {
      ok: false,
      reason: "too-few-strikes",
      message: `${quotes.length} strikes listed, need at least 3`,
    };
  }
  const growth = Math.exp(R * T);

  // Step 1a: forward from put-call parity at the strike with the smallest |C - P|.
  let forward = inputs.forward ?? Number.NaN;
  let parityStrike: number | null = null;
  if (inputs.forward === undefined) {
    let best = Number.POSITIVE_INFINITY;
    for (const q of quotes) {
      const c = mid(q.callBid, q.callAsk);
      const p = mid(q.putBid, q.putAsk);
      if (c === null || p === null) continue;
      if (Math.abs(c - p) < best) {
        best = Math.abs(c - p);
        parityStrike = q.strike;
        forward = q.strike + growth * (c - p);
      }
    }
    if (parityStrike === null) {
      return { ok: false, reason: "no-parity-pair", message: "no strike has both call and put mid quotes" };
    }
  } else if (!(forward > 0)) {
    throw new InvalidInputError("forward", forward, "must be a finite number > 0");
  }

  // Step 1b: K0, the strike immediately below F (at or below, when F is itself listed).
  let k0Index = -1;
  for (let i = 0; i < quotes.length; i++) if ((quotes[i] as StrikeQuotes).strike <= forward) k0Index = i;
  if (k0Index < 0) {
    return {
      ok: false,
      reason: "forward-below-strikes",
      message: `forward ${forward} is below every strike`,
    };
  }
  const k0 = (quotes[k0Index] as StrikeQuotes).strike;

  // Steps 1c-1e: the strip.
  type Pick = { strike: number; kind: StrikeContribution["kind"]; mid: number };
  const puts: Pick[] = [];
  let zeroRun = 0;
  for (let i = k0Index - 1; i >= 0 && zeroRun < 2; i--) {
    const q = quotes[i] as StrikeQuotes;
    if (!(q.putBid !== null && q.putBid > 0)) {
      zeroRun++;
      continue;
    }
    zeroRun = 0;
    const m = mid(q.putBid, q.putAsk);
    if (m !== null) puts.push({ strike: q.strike, kind: "put", mid: m });
  }
  const calls: Pick[] = [];
  zeroRun = 0;
  for (let i = k0Index + 1; i < quotes.length && zeroRun < 2; i++) {
    const q = quotes[i] as StrikeQuotes;
    if (!(q.callBid !== null && q.callBid > 0)) {
      zeroRun++;
      continue;
    }
    zeroRun = 0;
    const m = mid(q.callBid, q.callAsk);
    if (m !== null) calls.push({ strike: q.strike, kind: "call", mid: m });
  }
  const qk0 = quotes[k0Index] as StrikeQuotes;
  const callMid0 = mid(qk0.callBid, qk0.callAsk);
  const putMid0 = mid(qk0.putBid, qk0.putAsk);
  const atm: Pick[] = [];
  if (callMid0 !== null && putMid0 !== null)
    atm.push({ strike: k0, kind: "put-call-average", mid: (callMid0 + putMid0) / 2 });
  else if (putMid0 !== null) atm.push({ strike: k0, kind: "put", mid: putMid0 });
  else if (callMid0 !== null) atm.push({ strike: k0, kind: "call", mid: callMid0 });
  const strip = [...puts.reverse(), ...atm, ...calls];
  if (strip.length < 2) {
    return {
      ok: false,
      reason: "too-few-strikes",
      message: `only ${strip.length} usable out-of-the-money quotes`,
    };
  }

  // Step 2: contributions and the variance.
  const contributions: StrikeContribution[] = strip.map((p, i) => {
    const lower = i > 0 ? (strip[i - 1] as Pick).strike : null;
    const upper = i < strip.length - 1 ? (strip[i + 1] as Pick).strike : null;
    const strikeWidth =
      lower !== null && upper !== null
        ? (upper - lower) / 2
        : upper !== null
          ? upper - p.strike
          : p.strike - (lower as number);
    return {
      strike: p.strike,
      kind: p.kind,
      mid: p.mid,
      strikeWidth,
      contribution: (strikeWidth / (p.strike * p.strike)) * growth * p.mid,
    };
  });
  let total = 0;
  for (const c of contributions) total += c.contribution;
  const correction = (forward / k0 - 1) ** 2 / T;
  return {
    ok: true,
    value: {
      timeToExpiry: T,
      forward,
      parityStrike,
      k0,
      variance: (2 / T) * total - correction,
      correction,
      contributions,
      excluded: quotes.length - strip.length,
    },
  };
}
