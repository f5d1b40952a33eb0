import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { optimizeSpecParts, parseOptimizeSpec } from "../../src/adapters/optimizeSpec.js";

describe("optimize spec (zod)", () => {
  it("parses examples/optimize-spec.json with defaults filled", () => {
    const doc = JSON.parse(readFileSync(resolve(__dirname, "../../examples/optimize-spec.json"), "utf8"));
    const s = parseOptimizeSpec(doc);
    expect(s.objective).toEqual({ kind: "vega-target", targetUsdPerVolPt: 1000, penaltyUsd: 50 });
    expect(s.constraints.cvar).toEqual({ alpha: 0.95, maxLossUsd: 60000 });
    expect(s.surfaceModel).toBe("svi-af");
    const { spec, filter } = optimizeSpecParts(s);
    expect(spec.costs?.feePerContractUsd).toBe(3);
    expect(filter.maxContracts).toBe(25);
  });

  it("collects every problem with its path", () => {
    expect(() =>
      parseOptimizeSpec({
        objective: { kind: "gamma-scalp" },
        constraints: { delta: { min: 1, max: -1 }, cvar: { alpha: 1.5, maxLossUsd: 10 }, typo: 1 },
        lots: { lotSize: 0 },
      }),
    ).toThrow(/objective.*constraints\.delta.*|constraints\.delta.*objective/s);
    try {
      parseOptimizeSpec({
        objective: { kind: "edge" },
        constraints: { cvar: { alpha: 1.5, maxLossUsd: 10 } },
        lots: { lotSize: 0 },
      });
    } catch (e) {
      const m = (e as Error).message;
      expect(m).toMatch(/constraints\.cvar\.alpha/);
      expect(m).toMatch(/lots\.lotSize/);
    }
  });

  it("minimal spec: edge objective, no constraints", () => {
    const s = parseOptimizeSpec({ objective: { kind: "edge" } });
    expect(s.constraints).toEqual({});
    expect(s.stress).toBe(true);
    expect(s.underlying).toBe("BTC");
  });
});
