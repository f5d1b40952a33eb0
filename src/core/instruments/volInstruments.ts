/**
 * Volatility instruments as data: validated constructors and names for variance swaps and
 * vol-index (DVOL) futures (types.ts has the contract conventions).
 *
 * Names (parseVolInstrumentName reads both back):
 *   BTC-VARSWAP-20NOV26-25DEC26-50   variance swap on BTC, fixings from 20 Nov 26 08:00 UTC to
 *                                    25 Dec 26 08:00 UTC, strike 50 vol points (decimals as "d":
 *                                    42d5 = 42.5). Over the counter: Deribit lists none, the
 *                                    scheme is ours and mirrors Deribit's date codes.
 *   BTCDVOL-27MAR26                  DVOL future on BTC expiring 27 Mar 26 08:00 UTC. "BTCDVOL" is
 *                                    the ticker Deribit announced for its DVOL futures (CoinDesk,
 *                                    March 2023, quoting Deribit's CCO); the `_USDC` form
 *                                    (BTCDVOL_USDC-27MAR26) is accepted too.
 *
 * DVOL futures specification: Deribit launched BTC DVOL futures on 27 Mar 2023, cash-settled in
 * USDC on the DVOL index at expiry (insights.deribit.com, "Demystifying DVOL Futures"). The contract
 * size and tick were NOT found in the stored documentation (searched: Deribit docs, contract
 * specifications pages, get_instruments): DVOL_FUTURE_SPEC's 1 USD per index point and 0.1 point
 * are UNVERIFIED defaults, to be checked against public/get_instruments (`contract_size`,
 * `tick_size`) before trading; every constructor takes the real values as inputs.
 */
import { InvalidInputError, requirePositive } from "../errors.js";
import { formatDeribitExpiry, parseDeribitExpiry } from "./names.js";
import type { VarianceSwapContract, VolIndexFutureContract, VolInstrument } from "./types.js";

/** DVOL future terms used when none are given (contract size and tick UNVERIFIED, see above). */
export const DVOL_FUTURE_SPEC = {
  /** Constant maturity of the index, days. */
  indexDays: 30,
  /** USD per index point per contract (unverified). */
  contractSize: 1,
  /** Index points (unverified). */
  tickSize: 0.1,
} as const;

/** Vega notional per variance-swap contract when none is given: 1 USD per vol point. */
export const VARIANCE_SWAP_DEFAULT_VEGA_NOTIONAL = 1;

function volPointsCode(strikeVol: number): string {
  const pts = Math.round(strikeVol * 100 * 1e6) / 1e6;
  return String(pts).replace(".", "d");
}

/** "BTC-VARSWAP-<start>-<expiry>-<strike pts>", e.g. "BTC-VARSWAP-20NOV26-25DEC26-50". */
export function varianceSwapName(o: {
  readonly underlying: string;
  readonly start: number;
  readonly expiry: number;
  readonly strikeVol: number;
}): string {
  return `${o.underlying}-VARSWAP-${formatDeribitExpiry(o.start)}-${formatDeribitExpiry(o.expiry)}-${volPointsCode(o.strikeVol)}`;
}

/** "<COIN>DVOL-<expiry>", e.g. "BTCDVOL-27MAR26". */
export function volIndexFutureName(o: { readonly underlying: string; readonly expiry: number }): string {
  return `${o.underlying}DVOL-${formatDeribitExpiry(o.expiry)}`;
}

function requireInstant(field: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value))
    throw new InvalidInputError(field, value, "must be an epoch-ms instant (finite number)");
  return value;
}

function requireUnderlying(value: unknown): string {
  if (typeof value !== "string" || !/^[A-Z0-9]+$/.test(value))
    throw new InvalidInputError("underlying", value, "must be an upper-case coin code like BTC");
  return value;
}

/** A validated variance swap; throws InvalidInputError naming the field. */
export function varianceSwapContract(o: {
  readonly underlying: string;
  readonly start: number;
  readonly expiry: number;
  readonly strikeVol: number;
  readonly contractSize?: number;
  readonly name?: string;
}): VarianceSwapContract {
  const underlying = requireUnderlying(o.underlying);
  const start = requireInstant("start", o.start);
  const expiry = requireInstant("expiry", o.expiry);
  if (!(expiry > start)) throw new InvalidInputError("expiry", expiry, `must be after start ${start}`);
  const strikeVol = requirePositive("strikeVol", o.strikeVol);
  if (strikeVol > 10)
    throw new InvalidInputError("strikeVol", strikeVol, "must be a decimal vol (0.5 = 50 points), <= 10");
  const contractSize = requirePositive("contractSize", o.contractSize ?? VARIANCE_SWAP_DEFAULT_VEGA_NOTIONAL);
  return {
    type: "varianceSwap",
    name: o.name ?? varianceSwapName({ underlying, start, expiry, strikeVol }),
    underlying,
    expiry,
    start,
    strikeVol,
    settlement: "linear",
    contractSize,
  };
}

/** A validated vol-index future; throws InvalidInputError naming the field. */
export function volIndexFutureContract(o: {
  readonly underlying: string;
  readonly expiry: number;
  readonly contractSize?: number;
  readonly tickSize?: number;
  readonly indexDays?: number;
  readonly name?: string;
}): VolIndexFutureContract {
  const underlying = requireUnderlying(o.underlying);
  const expiry = requireInstant("expiry", o.expiry);
  return {
    type: "volIndexFuture",
    name: o.name ?? volIndexFutureName({ underlying, expiry }),
    underlying,
    expiry,
    settlement: "linear",
    contractSize: requirePositive("contractSize", o.contractSize ?? DVOL_FUTURE_SPEC.contractSize),
    tickSize: requirePositive("tickSize", o.tickSize ?? DVOL_FUTURE_SPEC.tickSize),
    indexDays: requirePositive("indexDays", o.indexDays ?? DVOL_FUTURE_SPEC.indexDays),
  };
}

/** Variance notional of one contract, USD per vol-point^2: N_var = contractSize / (2 K_pts). */
export function varianceNotionalPerContract(c: VarianceSwapContract): number {
  return c.contractSize / (2 * 100 * c.strikeVol);
}

function parseDate(name: string, field: string, code: string | undefined): number {
  const t = code === undefined ? null : parseDeribitExpiry(code);
  if (t === null) throw new InvalidInputError(field, code, `in "${name}" must be a date like 27DEC24`);
  return t;
}

/**
 * Parses a vol instrument name (see the module comment); null when the name is not one (so the
 * caller can try parseInstrumentName), InvalidInputError naming the part when it looks like one
 * but is malformed. `sizes` overrides the default contract size / tick.
 */
export function parseVolInstrumentName(
  name: string,
  sizes: { readonly contractSize?: number; readonly tickSize?: number } = {},
): VolInstrument | null {
  const parts = name.trim().toUpperCase().split("-");
  const head = parts[0] ?? "";
  if (parts[1] === "VARSWAP") {
    if (parts.length !== 5)
      throw new InvalidInputError("name", name, "must be COIN-VARSWAP-START-EXPIRY-STRIKEPTS");
    const strikeCode = parts[4] as string;
    if (!/^\d+(D\d+)?$/.test(strikeCode))
      throw new InvalidInputError("strike", strikeCode, `in "${name}" must be vol points like 50 or 42d5`);
    return varianceSwapContract({
      underlying: head,
      start: parseDate(name, "start", parts[2]),
      expiry: parseDate(name, "expiry", parts[3]),
      strikeVol: Number(strikeCode.replace("D", ".")) / 100,
      name: name.trim(),
      ...(sizes.contractSize !== undefined ? { contractSize: sizes.contractSize } : {}),
    });
  }
  const m = /^([A-Z0-9]+?)DVOL(?:_USDC)?$/.exec(head);
  if (!m) return null;
  if (parts.length !== 2)
    throw new InvalidInputError("name", name, "must be COINDVOL-EXPIRY like BTCDVOL-27MAR26");
  return volIndexFutureContract({
    underlying: m[1] as string,
    expiry: parseDate(name, "expiry", parts[1]),
    name: name.trim(),
    ...(sizes.contractSize !== undefined ? { contractSize: sizes.contractSize } : {}),
    ...(sizes.tickSize !== undefined ? { tickSize: sizes.tickSize } : {}),
  });
}

/** True for a variance swap or a vol-index future. */
export function isVolInstrument(i: { readonly type: string }): i is VolInstrument {
  return i.type === "varianceSwap" || i.type === "volIndexFuture";
}
