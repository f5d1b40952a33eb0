/**
 * Typed errors and result values shared by every layer.
 *
 * DESIGN.md: programmer and domain errors in core throw a RangeError subclass naming the
 * field and the value; expected failures are returned as values (`Result`) so batches go on.
 */

/** A bad argument: names the offending field and the value received. */
export class InvalidInputError extends RangeError {
  readonly field: string;
  readonly value: unknown;
  constructor(field: string, value: unknown, expectation: string) {
    super(`${field} ${expectation}, got ${formatValue(value)}`);
    this.name = "InvalidInputError";
    this.field = field;
    this.value = value;
  }
}

function formatValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean")
    return String(value);
  if (value === undefined) return "undefined";
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** Throws unless `value` is a finite number. */
export function requireFinite(field: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new InvalidInputError(field, value, "must be a finite number");
  }
  return value;
}

/** Throws unless `value` is a finite number > 0. */
export function requirePositive(field: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new InvalidInputError(field, value, "must be a finite number > 0");
  }
  return value;
}

/** Throws unless `value` is a finite number >= 0. */
export function requireNonNegative(field: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new InvalidInputError(field, value, "must be a finite number >= 0");
  }
  return value;
}

/** Throws unless `value` is "call" or "put". */
export function requireKind(field: string, value: unknown): "call" | "put" {
  if (value !== "call" && value !== "put") {
    throw new InvalidInputError(field, value, 'must be "call" or "put"');
  }
  return value;
}

/** An expected outcome: success with a value, or failure with a reason code and message. */
export type Result<T, R extends string = string> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: R; readonly message: string };

export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const fail = <R extends string>(reason: R, message: string): Result<never, R> => ({
  ok: false,
  reason,
  message,
});
