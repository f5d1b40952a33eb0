import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

/** Issue 25: small functions, one concept each. No src function (nested ones included) longer. */
const MAX_FUNCTION_LINES = 80;

describe("function length (scripts/fnlen.mjs over src)", () => {
  it(`no function in src is longer than ${MAX_FUNCTION_LINES} lines; offenders are listed`, () => {
    const root = resolve(__dirname, "..");
    let out: string;
    try {
      out = execFileSync(
        process.execPath,
        ["scripts/fnlen.mjs", "--max", String(MAX_FUNCTION_LINES), "src"],
        {
          cwd: root,
          encoding: "utf8",
        },
      );
    } catch (e) {
      // fnlen exits 1 with the list of offenders on stdout: show it as the failure.
      out = String((e as { stdout?: string }).stdout ?? e);
    }
    expect(out.trim()).toBe(`0 function(s) over ${MAX_FUNCTION_LINES} lines`);
  });

  it("the counter finds a long function (control: a 30-line limit lists offenders)", () => {
    const root = resolve(__dirname, "..");
    let status = 0;
    let out = "";
    try {
      out = execFileSync(process.execPath, ["scripts/fnlen.mjs", "--max", "30", "src/core/pricing"], {
        cwd: root,
        encoding: "utf8",
      });
    } catch (e) {
      status = (e as { status?: number }).status ?? -1;
      out = String((e as { stdout?: string }).stdout ?? "");
    }
    expect(status).toBe(1);
    expect(out).toMatch(/src\/core\/pricing\/\S+\.ts:\d+/);
  });
});
