/**
 * The kill switch: trading stops while a file exists (so an operator, a script or another
 * process can stop the agent with `touch`) or after an HTTP /kill, which creates the same file
 * so the stop survives a restart. Removing the file (or HTTP /resume) releases it.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export class KillSwitch {
  constructor(readonly file: string) {}

  engaged(): boolean {
    return existsSync(this.file);
  }

  engage(reason: string): void {
    mkdirSync(dirname(this.file), { recursive: true });
    writeFileSync(this.file, `${new Date().toISOString()} ${reason}\n`);
  }

  release(): void {
    rmSync(this.file, { force: true });
  }
}
