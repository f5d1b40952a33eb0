#!/usr/bin/env node
/**
 * The `volfolio` command line: parse -> library -> format (table or --json).
 * Every command lives in ./commands/<area>.ts and registers itself here.
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Command, CommanderError } from "commander";
import * as agent from "./commands/agent.js";
import * as backtest from "./commands/backtest.js";
import * as chain from "./commands/chain.js";
import * as demo from "./commands/demo.js";
import * as optimize from "./commands/optimize.js";
import * as risk from "./commands/risk.js";
import * as store from "./commands/store.js";
import * as surface from "./commands/surface.js";
import * as varswap from "./commands/varswap.js";
import * as vault from "./commands/vault.js";
import * as volindex from "./commands/volindex.js";
import { describeError, EXIT_USAGE } from "./io.js";

export function buildProgram(): Command {
  const program = new Command();
  program
    .name("volfolio")
    .description("Volatility portfolio optimization on crypto options (Deribit-style inverse and linear).")
    .version("0.1.0")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  for (const area of [chain, surface, risk, optimize, backtest, volindex, varswap, agent, demo, store, vault])
    area.register(program);
  return program;
}

/** Runs the CLI; returns the exit code. Errors are one line on stderr, never a stack trace. */
export async function run(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: "user" });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; commander already printed its message.
      if (
        err.code === "commander.helpDisplayed" ||
        err.code === "commander.version" ||
        err.code === "commander.help"
      )
        return 0;
      return err.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    const { message, exitCode } = describeError(err);
    process.stderr.write(`volfolio: ${message}\n`);
    if (process.env.VOLFOLIO_DEBUG) process.stderr.write(`${(err as Error)?.stack ?? ""}\n`);
    return exitCode;
  }
}

const invokedDirectly = (() => {
  try {
    return (
      process.argv[1] !== undefined &&
      realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))
    );
  } catch {
    return false;
  }
})();

if (invokedDirectly) {
  // A reader that stops early (`volfolio risk ... | head`) closes the pipe: stop quietly, not with
  // an unhandled 'error' event and a stack trace.
  for (const stream of [process.stdout, process.stderr])
    stream.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
      throw e;
    });
  run(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
