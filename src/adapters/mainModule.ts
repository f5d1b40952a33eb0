/**
 * Whether a module is the script node was started with (`node dist/cli/main.js`, or a symlinked
 * `volfolio` bin): the ESM stand-in for CommonJS's `require.main === module`. Both paths are
 * resolved through symlinks; any failure (no argv[1], a path that no longer exists) means "no".
 *
 * Used by src/cli/main.ts (the CLI entry) and src/adapters/sweepQueue.ts (the `--sweep-worker`
 * child process), which each run their main only when started directly, not when imported.
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";

export function isMainModule(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}
