/**
 * Module-resolution hook for test/api/entryPoints.test.ts: appends every URL the child process resolves
 * (packages, node: builtins, our own files) to the log file named by the hook's registration data.
 */
import { appendFileSync } from "node:fs";

let logFile = "";

export function initialize(data) {
  logFile = data.logFile;
}

export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  appendFileSync(logFile, `${result.url}\n`);
  return result;
}
