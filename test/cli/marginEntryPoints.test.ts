/**
 * Issue 20 item 7: one book on one market gives the same margin and liquidation figures through
 * every place that shows or uses them:
 *   - `volfolio margin --book B --chain C --json` (the CLI),
 *   - the demo's Risk tab pipeline: web/bookMarket.ts bookMargin on the book valued on the chain
 *     (cli/bookMarket.ts bookOnMarket, what `volfolio demo --chain` runs),
 *   - the agent's margin limit: agent/analytics.ts bookMarginUsd (no analytics) and
 *     AgentAnalytics.marginOf (with analytics, both margin models) on the market the agent builds
 *     for a tick of the same chain (agent/valuation.ts tickMarketInput -> core chainRiskMarket),
 *     and core liquidationByRevaluation on that agent market with the agent's cash.
 * Equal to 1e-9 relative (the agent's tick market uses the marks surface, the CLI a fit pinned to
 * the marks: listed strikes get the same vols, so the sticky-strike risk matrix, the standard
 * margin and the sticky-strike / vol-up liquidation distances agree; the sticky-moneyness
 * distance reads the surface between strikes and is compared CLI = demo only).
 * Markets: a chain written here from Black-76 (always runs), and the real sample Deribit chain
 * (../shared/data, skipped with a message when absent).
 */
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadChainFile } from "../../src/adapters/chainFile.js";
import { AgentAnalytics, bookMarginUsd } from "../../src/agent/analytics.js";
import type { AgentAnalyticsConfig } from "../../src/agent/config.js";
import { tickMarketInput } from "../../src/agent/valuation.js";
import { bookOnMarket, loadBookFile } from "../../src/cli/bookMarket.js";
import { instrumentFromName, parseDeribitExpiry } from "../../src/core/instruments/names.js";
import type { Position } from "../../src/core/instruments/types.js";
import { liquidationByRevaluation } from "../../src/core/margin/liquidation.js";
import type { ChainSnapshot } from "../../src/core/market/types.js";
import { chainRiskMarket } from "../../src/core/risk/chainMarket.js";
import { bookMargin } from "../../src/web/bookMarket.js";
import { blackChainRows } from "../helpers/deribitApi.js";
import { captureCli } from "./capture.js";

/** The CLI's JSON figures vs the library called here on the same book and market: the same computation through a JSON round trip; 1e-9 relative. */
const SAME_FIGURE_REL = 1e-9;
/** Liquidation moves bisected to 1e-6 on both paths: within a few 1e-6; 1e-5 absolute. */
const BISECTED_MOVE_ABS = 1e-5;

const ROOT = resolve(__dirname, "../..");
const SAMPLE = resolve(ROOT, "../shared/data/deribit/sample_BTC_ETH_chain_20260110T091409Z.csv");
const dir = mkdtempSync(join(tmpdir(), "volfolio-margin-entry-"));
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-9);
// biome-ignore lint/suspicious/noExplicitAny: parsed --json output
type Json = any;

/** A BTC chain written from Black-76 (forwards with carry, a smile), as Deribit's API serves it. */
function blackChainFile(): string {
  const t = Date.UTC(2026, 4, 5, 8, 30);
  const codes = ["29MAY26", "26JUN26", "25SEP26"];
  const fwd = (c: string) => 97_800 * Math.exp((0.06 * ((parseDeribitExpiry(c) as number) - t)) / 3.1536e10);
  const file = join(dir, "black.json");
  writeFileSync(
    file,
    JSON.stringify(
      blackChainRows({
        time: t,
        indexPrice: 97_800,
        expiries: codes.map((code) => ({ code, expiry: parseDeribitExpiry(code) as number })),
        strikes: [70, 80, 85, 90, 95, 100, 105, 110, 120, 140].map((x) => x * 1000),
        forward: fwd,
        vol: (c, K) => {
          const k = Math.log(K / fwd(c));
          return (c === "29MAY26" ? 0.5 : 0.55) - 0.14 * k + 0.35 * k * k;
        },
        spread: 0.04,
      }),
    ),
  );
  return file;
}

interface Case {
  name: string;
  chain: () => string;
  positions: { instrument: string; quantity: number }[];
  cash: Record<string, number>;
}
const CASES: Case[] = [
  {
    name: "Black-76 chain written here",
    chain: blackChainFile,
    positions: [
      { instrument: "BTC-26JUN26-110000-C", quantity: -12 },
      { instrument: "BTC-26JUN26-90000-P", quantity: 6 },
      { instrument: "BTC-29MAY26-85000-P", quantity: -9 },
      { instrument: "BTC-25SEP26-100000-C", quantity: 4 },
      { instrument: "BTC_USDC-26JUN26-95000-P", quantity: -300 },
      { instrument: "BTC-PERPETUAL", quantity: 250_000 },
    ],
    cash: { BTC: 4, USDC: 40_000 },
  },
  {
    name: "real sample Deribit chain (2026-01-10)",
    chain: () => SAMPLE,
    positions: [
      { instrument: "BTC-27MAR26-110000-C", quantity: -10 },
      { instrument: "BTC-27MAR26-80000-P", quantity: -8 },
      { instrument: "BTC-26JUN26-90000-P", quantity: 5 },
      { instrument: "BTC-30JAN26-95000-C", quantity: 6 },
      { instrument: "BTC_USDC-27MAR26-85000-P", quantity: -200 },
      { instrument: "BTC-PERPETUAL", quantity: -150_000 },
    ],
    cash: { BTC: 3, USDC: 30_000 },
  },
];

const analyticsConfig = (margin: "standard" | "portfolio") => ({ margin }) as unknown as AgentAnalyticsConfig; // marginOf reads only .margin

if (!existsSync(SAMPLE))
  console.warn(`marginEntryPoints.test: sample chain case skipped, ${SAMPLE} not found`);

describe("one book, one market: the same margin and liquidation figures in the CLI, the demo and the agent", () => {
  for (const c of CASES)
    it.skipIf(c.chain === CASES[1]?.chain && !existsSync(SAMPLE))(
      c.name,
      async () => {
        const chain = c.chain();
        const bookPath = join(dir, `${c.name.replace(/\W+/g, "-")}.json`);
        writeFileSync(bookPath, JSON.stringify({ positions: c.positions, cash: c.cash }));

        // 1. The CLI.
        const r = await captureCli(["margin", "--book", bookPath, "--chain", chain, "--json"]);
        expect(r.code, r.err).toBe(0);
        const cli: Json = JSON.parse(r.out);

        // 2. The demo's pipeline function on the book valued on the chain.
        const v = await bookOnMarket(await loadBookFile(bookPath), { kind: "chain", file: chain });
        const demo: Json = JSON.parse(JSON.stringify(bookMargin(v)));
        for (const k of [
          "byCurrency",
          "accounts",
          "equityUsd",
          "portfolioInitialUsd",
          "portfolioMaintenanceUsd",
          "standardInitialUsd",
          "standardMaintenanceUsd",
          "liquidation",
          "liquidationByAccount",
        ])
          expect(demo[k], k).toEqual(cli[k]);

        // 3. The agent: the market it builds for a tick of this chain, its cash and positions.
        const snap = (await loadChainFile(chain)).chains.find((x) => x.underlying === "BTC") as ChainSnapshot;
        const tick = tickMarketInput(snap);
        if (!tick.ok) throw new Error(tick.reason);
        const positions: Position[] = c.positions.map((p) => ({
          instrument: instrumentFromName(p.instrument),
          quantity: p.quantity,
        }));
        const { market, accepted } = chainRiskMarket([tick.input], positions);
        expect(accepted.length).toBe(positions.length);
        const pmUsd = bookMarginUsd(accepted, market, "portfolio");
        const smUsd = bookMarginUsd(accepted, market, "standard");
        expect(pmUsd).toBeGreaterThan(0);
        expect(rel(pmUsd, cli.portfolioInitialUsd)).toBeLessThan(SAME_FIGURE_REL);
        expect(rel(smUsd, cli.standardInitialUsd)).toBeLessThan(SAME_FIGURE_REL);
        expect(new AgentAnalytics(analyticsConfig("portfolio")).marginOf(accepted, market)).toBe(pmUsd);
        expect(new AgentAnalytics(analyticsConfig("standard")).marginOf(accepted, market)).toBe(smUsd);

        // Liquidation on the agent's market: per account and pooled, sticky-strike and vol up.
        const liq = liquidationByRevaluation({
          positions: accepted,
          cash: c.cash,
          market,
          dynamics: ["sticky-strike"],
        });
        const rows: Json[] = cli.liquidationByAccount;
        let crossed = 0;
        for (const row of rows) {
          const a = row.account === "pooled" ? liq.pooled : liq.byCurrency[row.account];
          expect(a, row.account).toBeDefined();
          expect(rel(a!.buffer, row.buffer), `${row.account} buffer`).toBeLessThan(SAME_FIGURE_REL);
          for (const [x, y] of [
            [a!.spot["sticky-strike"].down, row.spot["sticky-strike"].down],
            [a!.spot["sticky-strike"].up, row.spot["sticky-strike"].up],
            [a!.volUp, row.volUp],
          ] as const) {
            if (y === null) expect(x, row.account).toBeNull();
            else {
              crossed++;
              expect(Math.abs((x as number) - y), `${row.account}`).toBeLessThan(BISECTED_MOVE_ABS);
            }
          }
        }
        expect(crossed).toBeGreaterThan(0); // the book does reach liquidation somewhere
        expect(cli.liquidation.spotDown).toBe(
          rows.find((x) => x.account === "pooled").spot["sticky-strike"].down,
        );
      },
      240_000,
    );
});
