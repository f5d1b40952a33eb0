/**
 * A vault's deposit/withdraw schedule file (JSON), validated with zod at the edge.
 *
 * Format:
 *   { "flows": [
 *       { "time": "2026-01-01T00:00:00Z", "depositor": "alice", "type": "deposit", "amount": 10 },
 *       { "time": "2026-02-03", "depositor": "alice", "type": "withdraw", "shares": "all" } ] }
 * `time`: an ISO 8601 date or instant (UTC when no offset is given) or epoch ms; `amount` in the
 * vault's asset (coin for a covered-call or coin vault, USD for a USDC vault); `shares` a number
 * of shares or "all". A request is processed at the first round boundary at or after its time.
 * Every problem is reported with its path and the value found (BadInputFileError, CLI exit 2).
 */
import { z } from "zod";
import type { VaultFlow } from "../core/vault/flows.js";
import { BadInputFileError, readInputText } from "./inputFile.js";

const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/;

const timeSchema = z.union([
  z.number().int().nonnegative(),
  z
    .string()
    .regex(ISO, "must be an ISO 8601 date or instant")
    .refine((s) => Number.isFinite(parseTime(s)), "is not a valid date"),
]);

function parseTime(s: string): number {
  const hasZone = /(Z|[+-]\d{2}:\d{2})$/.test(s);
  return Date.parse(s.length === 10 ? `${s}T00:00:00Z` : hasZone ? s : `${s}Z`);
}

const flowSchema = z.discriminatedUnion("type", [
  z.strictObject({
    time: timeSchema,
    depositor: z.string().min(1),
    type: z.literal("deposit"),
    amount: z.number().positive().finite(),
  }),
  z.strictObject({
    time: timeSchema,
    depositor: z.string().min(1),
    type: z.literal("withdraw"),
    shares: z.union([z.number().positive().finite(), z.literal("all")]),
  }),
]);

export const vaultScheduleSchema = z.strictObject({ flows: z.array(flowSchema).min(1) });

const valueAt = (data: unknown, path: readonly PropertyKey[]): unknown => {
  let v: unknown = data;
  for (const k of path)
    v = v !== null && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
};

/** Validates parsed JSON as a schedule; every problem names its field and the value found. */
export function parseVaultSchedule(data: unknown, source = "schedule"): VaultFlow[] {
  const r = vaultScheduleSchema.safeParse(data);
  if (!r.success)
    throw new BadInputFileError(
      source,
      r.error.issues.map((i) => {
        const field = i.path.length ? i.path.join(".") : "(root)";
        const v = valueAt(data, i.path);
        return `${field} ${i.message}, got ${v === undefined ? "nothing" : JSON.stringify(v)}`;
      }),
    );
  return r.data.flows.map((f) => {
    const time = typeof f.time === "number" ? f.time : parseTime(f.time);
    return f.type === "deposit"
      ? { time, depositor: f.depositor, type: "deposit", amount: f.amount }
      : { time, depositor: f.depositor, type: "withdraw", shares: f.shares };
  });
}

/** Reads and validates a schedule file. */
export async function loadVaultSchedule(path: string): Promise<VaultFlow[]> {
  const text = await readInputText(path, "schedule file");
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new BadInputFileError(path, [`not valid JSON: ${(e as Error).message}`]);
  }
  return parseVaultSchedule(data, path);
}
