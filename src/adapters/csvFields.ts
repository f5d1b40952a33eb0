/** zod field parsers shared by the CSV loaders (Deribit-style files, Tardis options_chain). */
import { z } from "zod";

/** An optional numeric CSV cell: empty -> null; anything not a finite number is an issue naming the text. */
export const csvOptionalNumber = z
  .string()
  .optional()
  .transform((s, ctx) => {
    if (s === undefined || s.trim() === "") return null;
    const x = Number(s);
    if (!Number.isFinite(x)) {
      ctx.addIssue({ code: "custom", message: `not a number: "${s}"` });
      return z.NEVER;
    }
    return x;
  });

/** A price side (bid or ask): empty or zero means no quote on that side. */
export const csvSidePrice = csvOptionalNumber.transform((x) => (x !== null && x > 0 ? x : null));
