/**
 * The one formatter of zod validation problems (DESIGN.md: parse at the edge, collect all problems with
 * their paths). Every adapter, the agent config and the web builder report a failed parse through it:
 * one "path: message" per issue, the path dotted (`legs.0.quantity`), the root named by the caller.
 * Example: formatZodIssues(schema.safeParse({ legs: [{}] }).error) === "legs.0.quantity: Invalid input: ..."
 */
import type { z } from "zod";

export interface ZodIssueFormat {
  /** Name of the document's root in a path-less issue (default "(root)"). */
  readonly root?: string;
  /** At most this many issues (default all): for messages built from large untrusted payloads. */
  readonly limit?: number;
}

/** The dotted path of an issue, or `root` when the issue is about the whole document. */
export function zodIssuePath(issue: z.core.$ZodIssue, root = "(root)"): string {
  return issue.path.length > 0 ? issue.path.map(String).join(".") : root;
}

/** One "path: message" line per issue. */
export function zodIssueLines(error: z.core.$ZodError, format: ZodIssueFormat = {}): string[] {
  const issues = error.issues.slice(0, format.limit ?? error.issues.length);
  return issues.map((i) => `${zodIssuePath(i, format.root)}: ${i.message}`);
}

/** Every issue as "path: message", joined by "; ". */
export function formatZodIssues(error: z.core.$ZodError, format: ZodIssueFormat = {}): string {
  return zodIssueLines(error, format).join("; ");
}
