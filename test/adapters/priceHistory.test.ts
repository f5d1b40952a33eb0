import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadPriceHistory, priceLogReturns, parsePriceHistory } from "../../src/adapters/priceHistory.js";

/** ln(4970 / 7911) of two printed closes: the same one division and log, at most an ulp or two apart (ulp 5.6e-17 at 0.46). */
const LOG_RETURN_DIGITS = 14;

const DATA = resolve(__dirname, "../../../shared/data/prices/BTC-USD_daily.csv");

describe("price history loader", () => {
  it("accepts good rows and rejects bad ones with line and reason; counts reconcile", () => {
    const text = [
      "Date,Open,High,Low,Close,Adj Close,Volume",
      "2020-03-11,7910,7950,7590,7911,7911,3.5e10",
      "2020-03-12,7913,7929,4860,4970,4970,5.3e10",
      "2020-03-13,null,null,null,null,null,null",
      "2020-03-14,5573,5625,5125,5200,5200,",
      "2020-03-15,5201,5000,5100,5300,5300,1",
    ].join("\n");
    const h = parsePriceHistory(text);
    expect(h.rowsRead).toBe(5);
    expect(h.bars.map((b) => b.date)).toEqual(["2020-03-11", "2020-03-12", "2020-03-14"]);
    expect(h.rejected.map((r) => r.line)).toEqual([4, 6]);
    expect(h.rejected[0]?.reason).toMatch(/^open: .*"null"/);
    expect(h.rejected[1]?.reason).toMatch(/high\/low inconsistent/);
    expect(h.bars.length + h.rejected.length).toBe(h.rowsRead);
    expect(h.bars[2]?.volume).toBeNull();
    expect(priceLogReturns(h.bars)[0]?.value).toBeCloseTo(Math.log(4970 / 7911), LOG_RETURN_DIGITS);
  });

  it.skipIf(!existsSync(DATA))("loads the real BTC-USD history (../shared/data)", async () => {
    const h = await loadPriceHistory(DATA);
    expect(h.bars.length + h.rejected.length).toBe(h.rowsRead);
    expect(h.bars.length).toBeGreaterThan(3400);
    expect(h.bars[0]?.date).toBe("2014-09-17");
  });
});
