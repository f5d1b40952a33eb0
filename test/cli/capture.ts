/** Runs the `volfolio` CLI in-process (`run` from src/cli/main.ts) and captures stdout, stderr and the exit code. */
import { vi } from "vitest";
import { run } from "../../src/cli/main.js";

export interface CliRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** `env` is merged into process.env for the run and restored after it. */
export async function captureCli(argv: string[], env: Record<string, string> = {}): Promise<CliRun> {
  let out = "";
  let err = "";
  vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => {
    out += String(s);
    return true;
  });
  vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => {
    err += String(s);
    return true;
  });
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const code = await run(argv);
    return { code, out, err };
  } finally {
    process.env = saved;
    vi.restoreAllMocks();
  }
}
