/**
 * The 30-day variance swap strike over the daily season (../shared/data/deribit/daily, BTC and ETH):
 * strip (= the DVOL-method index squared), discrete-strike and wing corrections (svi-af surface), in
 * vol points, median and worst. Run: npx tsx scripts/measure/varianceSwapSeason.ts [--limit N]
 * Prints one line per day and a summary; figures quoted in the README.
 */
import { loadChainFile } from "../../src/adapters/chainFile.js";
import { normalizeChain } from "../../src/core/market/normalize.js";
import { dvolIndex } from "../../src/core/volindex/dvol.js";
import { varianceSwapStrike } from "../../src/core/volindex/varianceSwap.js";
import { dailyFiles } from "./deribitDaily.js";

const limitArg = process.argv.indexOf("--limit");
const files = dailyFiles().slice(0, limitArg > 0 ? Number(process.argv[limitArg + 1]) : undefined);
const rows: Record<
  string,
  {
    strip: number;
    fair: number;
    disc: number;
    wing: number;
    beyond: number;
    beyondSvi: number;
    maxEq: number;
  }[]
> = {};
for (const f of files) {
  const { chains } = await loadChainFile(f);
  for (const c of chains) {
    const snap = normalizeChain(c).snapshot;
    try {
      const v = varianceSwapStrike(snap, { tenorDays: 30 });
      const idx = dvolIndex(snap).index;
      const strip = 100 * Math.sqrt(v.stripVariance);
      const row = {
        strip,
        fair: v.strikeVolPoints,
        disc: 1e4 * (v.discreteCorrection ?? Number.NaN),
        wing: 1e4 * (v.wingCorrection ?? Number.NaN),
        beyond: 1e4 * (v.wingBeyondQuotes ?? Number.NaN),
        beyondSvi: 1e4 * (v.wingBeyondQuotesSvi ?? Number.NaN),
        maxEq: Math.abs(strip - idx),
      };
      const list = rows[c.underlying] ?? [];
      list.push(row);
      rows[c.underlying] = list;
      console.log(
        f.slice(-28, -7),
        c.underlying,
        row.strip.toFixed(2),
        row.fair.toFixed(2),
        row.disc.toFixed(1),
        row.wing.toFixed(1),
        row.beyond.toFixed(1),
        row.beyondSvi.toFixed(1),
        v.surfaceIssue ?? "",
      );
    } catch (e) {
      console.log(f.slice(-28, -7), c.underlying, "FAILED", (e as Error).message);
    }
  }
}
const q = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * (s.length - 1)))] as number;
};
for (const [coin, r] of Object.entries(rows)) {
  const gap = r.map((x) => x.fair - x.strip);
  console.log(
    `${coin}: ${r.length} days; fair - strip (vol pts) median ${q(gap, 0.5).toFixed(2)} min ${Math.min(...gap).toFixed(2)} max ${Math.max(...gap).toFixed(2)}; discrete (var pts) median ${q(
      r.map((x) => x.disc),
      0.5,
    ).toFixed(1)} worst ${Math.min(...r.map((x) => x.disc)).toFixed(1)}; wing median ${q(
      r.map((x) => x.wing),
      0.5,
    ).toFixed(1)} max ${Math.max(...r.map((x) => x.wing)).toFixed(1)}; beyond listed strikes median ${q(
      r.map((x) => x.beyond),
      0.5,
    ).toFixed(1)} max ${Math.max(...r.map((x) => x.beyond)).toFixed(1)} (SVI extrapolation median ${q(
      r.map((x) => x.beyondSvi),
      0.5,
    ).toFixed(
      1,
    )} max ${Math.max(...r.map((x) => x.beyondSvi)).toFixed(1)}); |strip - index| max ${Math.max(...r.map((x) => x.maxEq)).toExponential(1)}`,
  );
}
