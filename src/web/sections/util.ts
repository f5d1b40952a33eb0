/** Small formatting helpers shared by the demo's section builders. */

/** An instant as ISO-8601 UTC, "" when absent. */
export const iso = (t: number | null | undefined): string =>
  t === null || t === undefined ? "" : new Date(t).toISOString();

/** The first line of an error's message. */
export const firstLine = (e: unknown): string =>
  (e instanceof Error ? e.message : String(e)).split("\n")[0] ?? "";
