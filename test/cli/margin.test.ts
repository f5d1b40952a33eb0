/**
 * `volfolio margin --book FILE <market>`: per settlement-currency account, equity, standard and
 * portfolio margin with its components, and the distance to liquidation by full revaluation
 * (segregated accounts and pooled).
 *
 * - The figures are the core functions' on the same market: the market is rebuilt here by the
 *   market step the CLI uses (cli/bookMarket.ts bookOnMarket) and standardBookMargin,
 *   portfolioMargin, bookEquity and liquidationByRevaluation are called directly.
 * - `volfolio demo --no-serve --json --book` on the same book and market shows the same margin and
 *   liquidation figures (synthetic market, and the sample Deribit chain when ../shared/data has it).
 * - Hand check on single short puts plus cash (linear USDC and inverse BTC): at the reported
 *   spot-down distance, equity (cash + valuePosition at the bumped market) equals portfolio
 *   maintenance recomputed at that market, and no scanned point before it is below maintenance.
 */
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { bookOnMarket, loadBookFile } from "../../src/cli/bookMarket.js";
import type { Position } from "../../src/core/instruments/types.js";
import { standardBookMargin } from "../../src/core/margin/book.js";
import { liquidationByRevaluation } from "../../src/core/margin/liquidation.js";
import { portfolioMargin } from "../../src/core/margin/portfolioMargin.js";
import { bookEquity } from "../../src/core/risk/account.js";
import type { RiskMarket } from "../../src/core/risk/market.js";
import { applyScenario, type SurfaceDynamics } from "../../src/core/risk/scenario.js";
import { valuePosition } from "../../src/core/risk/valuation.js";
import { captureCli } from "./capture.js";

/** IM = worst loss + roll + delta shock, MM = 0.8 IM: one or two additions / one product on the printed JSON figures. */
const COMPONENT_SUM_DIGITS = 12;
const MM_RATIO_DIGITS = 14;
/** Book maintenance in USD summed here from the per-currency figures (~1e5 USD): summation order only. */
const USD_SUM_DIGITS = 6;
/** An account's equity and maintenance as the liquidation row reports them: the same figures, up to the JSON round trip. */
const SAME_FIGURE_DIGITS = 9;
/** Liquidation is bisected to 1e-6 in the move (liquidation.ts), so two bisections of the same crossing agree within 2e-6; 5 digits = 5e-6. */
const BISECTED_MOVE_DIGITS = 5;
/** Bisected to 1e-6 in the move: equity within 1e-4 (relative) of maintenance at the reported crossing. */
const CROSSING_REL = 1e-4;

const ROOT = resolve(__dirname, "../..");
const EXAMPLE_BOOK = join(ROOT, "examples/book.json");
const SAMPLE_CHAIN = resolve(ROOT, "../shared/data/deribit/sample_BTC_ETH_chain_20260110T091409Z.csv");
const TIME = "2026-02-02T08:00:00Z";
const SYNTHETIC = ["--synthetic", "--seed", "42", "--time", TIME];
const dir = mkdtempSync(join(tmpdir(), "volfolio-margin-"));

// biome-ignore lint/suspicious/noExplicitAny: parsed --json output
type Json = any;
async function json(argv: string[]): Promise<Json> {
  const r = await captureCli([...argv, "--json"]);
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out);
}
const roundTrip = <T>(x: T): T => JSON.parse(JSON.stringify(x));
const bookFile = (name: string, doc: unknown) => {
  const p = join(dir, name);
  writeFileSync(p, JSON.stringify(doc));
  return p;
};
const synthetic = async (file: string) =>
  bookOnMarket(await loadBookFile(file), { kind: "synthetic", seed: 42, valuationTime: Date.parse(TIME) });

describe("volfolio margin: the core functions' figures on the same market", () => {
  it("example book, --synthetic --seed 42: margins, components, equity and liquidation per account and pooled", async () => {
    const d = await json(["margin", "--book", EXAMPLE_BOOK, ...SYNTHETIC]);
    const v = await synthetic(EXAMPLE_BOOK);
    const std = standardBookMargin(v.positions, v.market);
    const pm = portfolioMargin(v.positions, v.market);
    const eq = bookEquity(v.positions, v.cash, v.market);
    const liq = liquidationByRevaluation({ positions: v.positions, cash: v.cash, market: v.market });

    expect(d.byCurrency.map((r: Json) => r.currency).sort()).toEqual(["BTC", "ETH", "USDC"]);
    for (const r of d.byCurrency) {
      const p = pm.byCurrency[r.currency];
      const s = std.byCurrency[r.currency];
      if (!p || !s) throw new Error(`no margin for ${r.currency}`);
      expect([r.stdInitial, r.stdMaintenance]).toEqual([s.initial, s.maintenance]);
      expect([r.pmInitial, r.pmMaintenance, r.pmWorst]).toEqual([p.initial, p.maintenance, p.worstScenario]);
      expect([r.pmWorstCaseLoss, r.pmRollShock, r.pmDeltaShock]).toEqual([p.risk, p.rollShock, p.deltaShock]);
      expect(r.pmWorstCase).toEqual(roundTrip(p.worstCase));
      // Components add up as Deribit's simulator lists them; MM = 0.8 IM.
      expect(r.pmInitial).toBeCloseTo(
        r.pmWorstCaseLoss + r.pmRollShock + r.pmDeltaShock,
        COMPONENT_SUM_DIGITS,
      );
      expect(r.pmMaintenance / r.pmInitial).toBeCloseTo(0.8, MM_RATIO_DIGITS);
      expect(r.pmWorstCaseLoss).toBe(Math.max(r.pmStandardTableLoss, r.pmExtendedTableLoss));
      expect(r.pmStandardTableLoss).toBe(Math.max(0, ...p.vectors.standard.map((x) => -x)));
      expect(r.pmExtendedTableLoss).toBe(Math.max(0, ...p.vectors.extended.map((x) => -x)));
      const w = p.worstCase;
      expect(r.pmWorstCell).toBe(
        w ? `${w.source} #${w.index}: bucket ${w.bucket} ${w.side}, vol ${w.vol}` : "none",
      );
    }
    // Accounts: bookEquity's, with the buffer over portfolio maintenance.
    expect(d.equityUsd).toBe(eq.equityUsd);
    for (const a of d.accounts) {
      const e = eq.byCurrency[a.currency];
      expect(e).toBeDefined();
      expect([a.cash, a.positions, a.equity, a.equityUsd]).toEqual([
        e?.cash,
        e?.positions,
        e?.equity,
        e?.equityUsd,
      ]);
      expect(a.buffer).toBe((e?.equity as number) - (pm.byCurrency[a.currency]?.maintenance ?? 0));
    }
    // Liquidation: core's rows, segregated then pooled; the old `liquidation` fields = pooled, sticky-strike.
    expect(d.liquidationByAccount).toEqual(roundTrip([...Object.values(liq.byCurrency), liq.pooled]));
    expect(d.liquidation).toMatchObject({
      account: "pooled",
      bufferUsd: liq.pooled.bufferUsd,
      spotDown: liq.pooled.spot["sticky-strike"].down,
      spotUp: liq.pooled.spot["sticky-strike"].up,
      volUp: liq.pooled.volUp,
      volDown: null,
    });
    const pmUsd = Object.entries(pm.byCurrency).reduce(
      (a, [c, m]) => a + m.maintenance * (eq.byCurrency[c]?.usdPerUnit as number),
      0,
    );
    expect(d.portfolioMaintenanceUsd).toBeCloseTo(pmUsd, USD_SUM_DIGITS);
    // Each account's liquidation row starts from the account's equity and maintenance.
    for (const a of d.accounts) {
      const row = d.liquidationByAccount.find((x: Json) => x.account === a.currency);
      expect(row.equity).toBeCloseTo(a.equity, SAME_FIGURE_DIGITS);
      expect(row.maintenance).toBeCloseTo(a.pmMaintenance, SAME_FIGURE_DIGITS);
    }
    // The figures this book reports (README): the USDC account is the nearest to liquidation;
    // pooled lies beyond the nearest segregated distance.
    const by = (k: string) => d.liquidationByAccount.find((x: Json) => x.account === k);
    const usdcDown = by("USDC").spot["sticky-strike"].down;
    expect(usdcDown).toBeGreaterThan(-0.25);
    expect(usdcDown).toBeLessThan(-0.1);
    expect(by("pooled").spot["sticky-strike"].down).toBeLessThan(usdcDown);
    for (const k of Object.keys(d.units)) expect(typeof d.units[k]).toBe("string");
    for (const k of ["byCurrency", "accounts", "liquidation", "liquidationByAccount"])
      expect(d.units[k]).toBeTruthy();
  }, 120_000);

  it("the table shows every account, the PM components, and the distances", async () => {
    const r = await captureCli(["margin", "--book", EXAMPLE_BOOK, ...SYNTHETIC]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("Portfolio margin components");
    expect(r.out).toMatch(/standard #\d+: bucket \d (left|center|right), vol (up|same|down)/);
    expect(r.out).toContain("Distance to liquidation by full revaluation");
    expect(r.out).toMatch(/^USDC +USDC +[\d.]+ +[\d.]+ +[\d.]+ +-18\.\d\d% /m);
    expect(r.out).toMatch(/^pooled +USD /m);
  }, 120_000);
});

describe("the demo shows the margin command's figures", () => {
  /** The margin figures both print, as the margin command names them. */
  const figures = (m: Json) => ({
    byCurrency: m.byCurrency.map((r: Json) => {
      const { initial: _i, maintenance: _m, ...rest } = r;
      return rest;
    }),
    accounts: m.accounts,
    equityUsd: m.equityUsd,
    portfolioMaintenanceUsd: m.portfolioMaintenanceUsd,
    portfolioInitialUsd: m.portfolioInitialUsd,
    standardMaintenanceUsd: m.standardMaintenanceUsd,
    liquidation: m.liquidation,
    liquidationByAccount: m.liquidationByAccount,
  });
  const demo = async (args: string[]) => {
    const r = await captureCli(["demo", "--no-serve", "--json", "--out", join(dir, "report"), ...args]);
    expect(r.code, r.err).toBe(0);
    return JSON.parse(r.out);
  };

  it("--synthetic --seed 42 and the demo's synthetic market on the same book: identical", async () => {
    const m = await json(["margin", "--book", EXAMPLE_BOOK, ...SYNTHETIC]);
    const rep = await demo(["--seed", "42", "--book", EXAMPLE_BOOK]);
    expect(rep.margin, rep.unavailable?.margin).toBeDefined();
    expect(figures(rep.margin)).toEqual(figures(m));
    expect(rep.margin.maintenanceUsd).toBe(m.portfolioMaintenanceUsd);
    // The section's old fields: standard margin by currency.
    for (const r of rep.margin.byCurrency)
      expect([r.initial, r.maintenance]).toEqual([r.stdInitial, r.stdMaintenance]);
  }, 180_000);

  it.skipIf(!existsSync(SAMPLE_CHAIN))(
    "the sample Deribit chain (BTC and ETH) on the same book: identical",
    async () => {
      const m = await json(["margin", "--book", EXAMPLE_BOOK, "--chain", SAMPLE_CHAIN]);
      const rep = await demo(["--chain", SAMPLE_CHAIN, "--book", EXAMPLE_BOOK]);
      expect(figures(rep.margin)).toEqual(figures(m));
    },
    180_000,
  );
});

describe("hand check: a single short put plus cash", () => {
  /** Equity - portfolio maintenance of the one-currency book at the market moved by x. */
  const surplus = (
    positions: readonly Position[],
    cash: number,
    currency: string,
    market: RiskMarket,
    x: number,
    dynamics: SurfaceDynamics,
  ) => {
    const m = applyScenario(market, { spotShift: x, volShift: 0, surfaceDynamics: dynamics });
    let equity = cash;
    for (const p of positions) {
      const val = valuePosition(p, m);
      equity += currency === "USDC" ? val.valueUsd : val.valueCoin;
    }
    const mm = portfolioMargin(positions, m).byCurrency[currency]?.maintenance as number;
    return { equity, mm };
  };

  const cases: { name: string; doc: unknown; currency: string; cash: number }[] = [
    {
      name: "linear USDC put",
      doc: {
        positions: [{ instrument: "BTC_USDC-27MAR26-95000-P", quantity: -500 }],
        cash: { USDC: 150_000 },
      },
      currency: "USDC",
      cash: 150_000,
    },
    {
      name: "inverse BTC put",
      doc: { positions: [{ instrument: "BTC-27MAR26-90000-P", quantity: -5 }], cash: { BTC: 3 } },
      currency: "BTC",
      cash: 3,
    },
  ];
  for (const c of cases)
    it(`${c.name}: equity = maintenance at the reported spot-down distance (both dynamics)`, async () => {
      const file = bookFile(`${c.currency}-put.json`, c.doc);
      const d = await json(["margin", "--book", file, ...SYNTHETIC]);
      const v = await synthetic(file);
      const row = d.liquidationByAccount.find((x: Json) => x.account === c.currency);
      expect(row.alreadyBelowMaintenance).toBe(false);
      for (const dyn of ["sticky-strike", "sticky-moneyness"] as const) {
        const x = row.spot[dyn].down as number;
        expect(x).toBeLessThan(0);
        expect(x).toBeGreaterThan(-0.99);
        const at = surplus(v.positions, c.cash, c.currency, v.market, x, dyn);
        // Bisected to 1e-6 in the move: equity within 1e-4 of maintenance, and below it.
        expect(Math.abs(at.equity - at.mm) / at.mm).toBeLessThan(CROSSING_REL);
        expect(at.equity).toBeLessThan(at.mm);
        const before = surplus(v.positions, c.cash, c.currency, v.market, x + 2e-6, dyn);
        expect(before.equity).toBeGreaterThanOrEqual(before.mm);
        // No earlier crossing on a 0.5% walk from 0.
        for (let y = -0.005; y > x; y -= 0.005) {
          const s = surplus(v.positions, c.cash, c.currency, v.market, y, dyn);
          expect(s.equity, `${dyn} at ${y}`).toBeGreaterThan(s.mm);
        }
      }
      // The single-currency pooled account crosses where the segregated one does (haircut 0).
      const pooled = d.liquidationByAccount.find((x: Json) => x.account === "pooled");
      expect(pooled.spot["sticky-strike"].down).toBeCloseTo(
        row.spot["sticky-strike"].down,
        BISECTED_MOVE_DIGITS,
      );
    }, 120_000);

  it("a short put with too little cash is already below maintenance: every distance 0, said in the table", async () => {
    const file = bookFile("below.json", {
      positions: [{ instrument: "BTC_USDC-27MAR26-95000-P", quantity: -10 }],
      cash: { USDC: 1_000 },
    });
    const d = await json(["margin", "--book", file, ...SYNTHETIC]);
    const row = d.liquidationByAccount.find((x: Json) => x.account === "USDC");
    expect(row.alreadyBelowMaintenance).toBe(true);
    expect(row.buffer).toBeLessThan(0);
    expect(row.spot["sticky-strike"]).toEqual({ down: 0, up: 0 });
    expect(row.volUp).toBe(0);
    expect(d.liquidation.alreadyBelowMaintenance).toBe(true);
    const t = await captureCli(["margin", "--book", file, ...SYNTHETIC]);
    expect(t.out).toMatch(/^USDC .*already below maintenance/m);
  }, 120_000);
});
