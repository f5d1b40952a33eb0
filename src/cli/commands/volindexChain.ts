/** `volfolio index --chain FILE`: wired to the chain-file loader once it exists. */
import type { Command } from "commander";

export function registerIndexCommand(_program: Command): void {}
