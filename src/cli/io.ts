/**
 * CLI plumbing shared by every command: output as a table or JSON, one-line errors,
 * exit codes scripts can rely on.
 *
 * Exit codes: 0 success; 1 a genuine failure on good input (no convergence, infeasible
 * optimization, limit breached); 2 bad usage or bad input (a bad flag, argument or flag value, an
 * implausible value such as a vol of 50 meaning 50%, a book or chain file whose content is wrong:
 * BadInputFileError / BookFileError, a corrupt gzip, InvalidInputError); 3 an outside resource is
 * unavailable (file missing or unreadable, network).
 */
import { BadInputFileError, InputFileError } from "../adapters/inputFile.js";
import { InvalidInputError } from "../core/errors.js";

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_UNAVAILABLE = 3;

/** An error the CLI prints as one line and maps to an exit code. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT_FAILURE) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}

const oneLine = (s: string): string => s.replace(/\s*\n\s*/g, " ");

/** Maps any thrown value to (one-line message, exit code). */
export function describeError(err: unknown): { message: string; exitCode: number } {
  if (err instanceof CliError) return { message: err.message, exitCode: err.exitCode };
  if (err instanceof BadInputFileError) return { message: oneLine(err.message), exitCode: EXIT_USAGE };
  if (err instanceof InvalidInputError)
    return { message: `invalid input: ${oneLine(err.message)}`, exitCode: EXIT_USAGE };
  if (err instanceof InputFileError && err.code === "EBADGZIP")
    return { message: oneLine(err.message), exitCode: EXIT_USAGE };
  const e = err as { code?: string; message?: string };
  if (e && typeof e.code === "string" && /^(ENOENT|EACCES|EPERM|EISDIR|ENOTDIR)$/.test(e.code)) {
    return { message: e.message ?? String(err), exitCode: EXIT_UNAVAILABLE };
  }
  if (
    e &&
    typeof e.code === "string" &&
    /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET)$/.test(e.code)
  ) {
    return { message: `network unavailable: ${e.message ?? e.code}`, exitCode: EXIT_UNAVAILABLE };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { message: message.split("\n")[0] ?? message, exitCode: EXIT_FAILURE };
}

export type Cell = string | number | boolean | null | undefined;

/** Formats rows as an aligned text table; numbers right-aligned. */
export function formatTable(rows: readonly Record<string, Cell>[], columns?: readonly string[]): string {
  if (rows.length === 0) return "(no rows)";
  const cols = columns ?? Object.keys(rows[0] ?? {});
  const text = (c: Cell): string =>
    c === null || c === undefined ? "" : typeof c === "number" ? formatNumber(c) : String(c);
  const cells = rows.map((r) => cols.map((c) => text(r[c])));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => (row[i] ?? "").length)));
  const numeric = cols.map((c) => rows.every((r) => typeof r[c] === "number" || r[c] == null));
  const pad = (s: string, i: number) => (numeric[i] ? s.padStart(widths[i] ?? 0) : s.padEnd(widths[i] ?? 0));
  const header = cols.map((c, i) => pad(c, i)).join("  ");
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  return [header, rule, ...cells.map((row) => row.map((s, i) => pad(s, i)).join("  "))].join("\n");
}

/** Compact human number: up to 6 significant digits, no exponent for ordinary magnitudes. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a >= 1e-4 && a < 1e12) return Number(x.toPrecision(6)).toString();
  return x.toExponential(4);
}

/** Writes `data` as pretty JSON or runs `table` to print text. */
export function output(json: boolean | undefined, data: unknown, table: () => string): void {
  if (json) process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
  else process.stdout.write(`${table()}\n`);
}

/** "--spot" from "spot" or "--spot". */
const flagName = (name: string): string => (name.startsWith("-") ? name : `--${name}`);

/** Parses a numeric CLI option, naming it in the error (`name` with or without the leading "--"). */
export function parseNumberOption(name: string, value: string): number {
  const x = Number(value);
  if (value.trim() === "" || !Number.isFinite(x))
    throw new CliError(`${flagName(name)} must be a number, got "${value}"`, EXIT_USAGE);
  return x;
}

/** Parses a numeric CLI option that must be > 0 (prices, timeouts); exit 2 otherwise. */
export function parsePositiveOption(name: string, value: string): number {
  const x = parseNumberOption(name, value);
  if (!(x > 0)) throw new CliError(`${flagName(name)} must be > 0, got "${value}"`, EXIT_USAGE);
  return x;
}

/** Vols are decimal (0.55 = 55%); a value above this is taken for percent by mistake. */
export const MAX_PLAUSIBLE_VOL = 5;

/**
 * Parses a decimal vol option: > 0 and at most MAX_PLAUSIBLE_VOL, else exit 2 (a vol of 50 gets
 * the hint "looks like percent: 0.50?").
 */
export function parseVolOption(name: string, value: string): number {
  const x = parseNumberOption(name, value);
  if (x > MAX_PLAUSIBLE_VOL)
    throw new CliError(
      `${flagName(name)} ${value} looks like percent: ${(x / 100).toFixed(2)}? (vols are decimal, 0.55 = 55%)`,
      EXIT_USAGE,
    );
  if (!(x > 0))
    throw new CliError(`${flagName(name)} must be a vol > 0 (decimal), got "${value}"`, EXIT_USAGE);
  return x;
}
