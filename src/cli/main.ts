#!/usr/bin/env node
/**
 * The `volfolio` command line: parse -> library -> format (table or --json).
 * Every command lives in ./commands/<area>.ts and registers itself here. A command's module (and with it
 * DuckDB, pg, BullMQ, fastify, piscina, ...) is loaded only when that command runs: `volfolio risk`
 * never loads the store or the web server. Help without a command, `help` and unknown commands load all.
 */
import { Command, CommanderError } from "commander";
import { isMainModule } from "../adapters/mainModule.js";
import { describeError, EXIT_USAGE } from "./io.js";

/** A command module: registers its top-level command(s) on the program. */
interface CommandModule {
  register(program: Command): void;
}

/** One command module and the top-level command names it registers (test/api/cliLazy.test.ts checks them). */
export interface CommandArea {
  readonly commands: readonly string[];
  readonly load: () => Promise<CommandModule>;
}

/** Every command module, in the order `volfolio --help` lists them. */
export const COMMAND_AREAS: readonly CommandArea[] = [
  { commands: ["chain"], load: () => import("./commands/chain.js") },
  { commands: ["surface"], load: () => import("./commands/surface.js") },
  { commands: ["risk", "stress", "margin"], load: () => import("./commands/risk.js") },
  { commands: ["optimize"], load: () => import("./commands/optimize.js") },
  { commands: ["backtest"], load: () => import("./commands/backtest.js") },
  { commands: ["sweep"], load: () => import("./commands/sweep.js") },
  { commands: ["index", "regime"], load: () => import("./commands/volindex.js") },
  { commands: ["varswap"], load: () => import("./commands/varswap.js") },
  { commands: ["agent"], load: () => import("./commands/agent.js") },
  { commands: ["demo", "serve"], load: () => import("./commands/demo.js") },
  { commands: ["store"], load: () => import("./commands/store.js") },
  { commands: ["vault"], load: () => import("./commands/vault.js") },
];

/** The areas `argv` needs: the one owning its first word, or all (help, version, an unknown command). */
export function areasFor(argv: readonly string[]): readonly CommandArea[] {
  const first = argv.find((a) => !a.startsWith("-"));
  const owner = COMMAND_AREAS.filter((a) => first !== undefined && a.commands.includes(first));
  return owner.length > 0 ? owner : COMMAND_AREAS;
}

/** The program with the commands `argv` needs registered (all of them when argv is empty). */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command();
  program
    .name("volfolio")
    .description("Volatility portfolio optimization on crypto options (Deribit-style inverse and linear).")
    .version("0.1.0")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  const modules = await Promise.all(areasFor(argv).map((a) => a.load()));
  for (const m of modules) m.register(program);
  return program;
}

/** Runs the CLI; returns the exit code. Errors are one line on stderr, never a stack trace. */
export async function run(argv: readonly string[]): Promise<number> {
  try {
    const program = await buildProgram(argv);
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

const invokedDirectly = isMainModule(import.meta.url);

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
