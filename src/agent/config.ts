/**
 * Agent configuration file (JSON), validated with zod at the edge. Secrets are never in this
 * file: the Deribit broker reads DERIBIT_CLIENT_ID / DERIBIT_CLIENT_SECRET from the environment.
 */
import { agentRegimeSchema } from "./regime.js";
import { z } from "zod";
import { readInputText } from "../adapters/inputFile.js";
import type { BrokerPolicy } from "./brokerPolicy.js";
import { DEFAULT_HEALTH_LIMITS, type HealthLimits } from "./health.js";
import type { PreTradeLimits } from "./limits.js";
import { formatZodIssues } from "../adapters/zodIssues.js";

const positive = z.number().finite().positive();

/**
 * Analytics of the agent loop (all optional, with defaults): surface refits, risk-engine greeks,
 * margin, CVaR, the CVaR/margin rules and the optimizer. See src/agent/analytics.ts.
 */
export const agentAnalyticsSchema = z
  .object({
    /** Refit the surface every N ticks (the last good fit is kept in between and on failure). */
    recalibrateEveryTicks: z.number().int().positive().default(1),
    surfaceModel: z.enum(["svi-af", "svi", "ssvi", "essvi"]).default("svi-af"),
    /** Margin model: Deribit standard (no offsets) or the risk-matrix portfolio margin. */
    margin: z.enum(["standard", "portfolio"]).default("standard"),
    /** CVaR above this (USD) fires a risk-reducing rebalance. */
    maxCvarUsd: positive.exactOptional(),
    /** Monte Carlo (Merton jump-diffusion, seeded) CVaR of the book. */
    cvar: z
      .object({
        confidence: z.number().gt(0).lt(1).default(0.99),
        horizonDays: positive.default(1),
        paths: z.number().int().min(20).max(20_000).default(400),
        seed: z.number().int().default(1),
        /** Diffusion vol (decimal); default: the surface's 30-day ATM vol. */
        vol: positive.exactOptional(),
        /** Vol shift per unit spot move (e.g. -0.5: a -20% move adds 10 vol points). */
        volSpotBeta: z.number().finite().default(-0.5),
      })
      .default({ confidence: 0.99, horizonDays: 1, paths: 400, seed: 1, volSpotBeta: -0.5 }),
    /** Simple risk rule (no optimizer): close this fraction of every option position on a breach. */
    reduceFraction: z.number().gt(0).max(1).default(0.5),
    /** Run the HiGHS optimizer when a rule other than a pure delta hedge fires. */
    useOptimizer: z.boolean().default(false),
    optimizer: z
      .object({
        /** USD of cost per USD/vol pt of vega-target miss. */
        vegaPenaltyUsd: positive.default(50),
        /** "hard": the vega tolerance band is a constraint (may be infeasible with a CVaR limit). */
        vega: z.enum(["soft", "hard"]).default("soft"),
        /** The optimizer's CVaR limit and margin budget are these fractions of the limits. */
        cvarTargetFraction: z.number().gt(0).max(1).default(0.9),
        marginTargetFraction: z.number().gt(0).max(1).default(0.9),
        /** |Black delta| window of new candidates in the target expiry. */
        minAbsDelta: z.number().min(0).max(1).default(0.05),
        maxAbsDelta: z.number().min(0).max(1).default(0.6),
        /** When the optimizer finds no solution: no option trade, or the simple rules. */
        fallback: z.enum(["none", "simple"]).default("none"),
      })
      .default({
        vegaPenaltyUsd: 50,
        vega: "soft",
        cvarTargetFraction: 0.9,
        marginTargetFraction: 0.9,
        minAbsDelta: 0.05,
        maxAbsDelta: 0.6,
        fallback: "none",
      }),
  })
  .strict();

export type AgentAnalyticsConfig = z.infer<typeof agentAnalyticsSchema>;

export const agentConfigSchema = z
  .object({
    /** Stable name of the run: client order ids are `${runId}-${tick}-${k}`. */
    runId: z.string().regex(/^[A-Za-z0-9_.-]{1,40}$/, "letters, digits, _ . - (at most 40)"),
    underlying: z.enum(["BTC", "ETH"]).default("BTC"),
    feed: z.discriminatedUnion("type", [
      z.object({
        type: z.literal("synthetic"),
        steps: z.number().int().positive(),
        stepMinutes: positive.default(60),
        seed: z.number().int().default(1),
        /** Start instant, ISO (default 2026-01-05T09:00:00Z). */
        start: z.string().datetime().default("2026-01-05T09:00:00Z"),
      }),
      z.object({
        type: z.literal("files"),
        dir: z.string().min(1),
        /**
         * The replay clock: tick N is decided at start + N x stepMinutes, whatever the snapshot's
         * own time says (feed health judges the snapshot's age against it). Defaults: start =
         * the first snapshot's time, step = the gap between the first two snapshots.
         */
        stepMinutes: positive.exactOptional(),
        start: z.string().datetime().exactOptional(),
      }),
      z.object({
        /**
         * The history store of `volfolio store ingest` (a directory with store.duckdb): one tick
         * per stored chain of the underlying, in time order, each the chain the file loader gives
         * for its file, with the stored perpetual price among its futures. Replay clock as for
         * `files`; `from`/`to` (YYYY-MM-DD, inclusive) cut the history.
         */
        type: z.literal("store"),
        dir: z.string().min(1),
        from: z.iso.date().exactOptional(),
        to: z.iso.date().exactOptional(),
        stepMinutes: positive.exactOptional(),
        start: z.string().datetime().exactOptional(),
      }),
      z.object({
        type: z.literal("deribit"),
        intervalSeconds: positive.default(60),
        /** "ws": public WebSocket JSON-RPC (default); "rest": public REST. */
        transport: z.enum(["ws", "rest"]).default("ws"),
        /** REST base URL (default https://www.deribit.com). */
        baseUrl: z.string().url().exactOptional(),
        /** WebSocket URL (default wss://www.deribit.com/ws/api/v2). */
        wsUrl: z.string().url().exactOptional(),
      }),
    ]),
    /** Replay speed: 0 = as fast as possible; N = N times real time. */
    speed: z.number().finite().nonnegative().default(0),
    /** Directory for the journal and the paper broker's state. */
    stateDir: z.string().min(1),
    broker: z
      .discriminatedUnion("type", [
        z.object({ type: z.literal("paper"), slippageBps: z.number().finite().nonnegative().default(0) }),
        z.object({
          type: z.literal("deribit"),
          /** Must be true to send real orders. */
          enabled: z.boolean().default(false),
          testnet: z.boolean().default(true),
          baseUrl: z.string().url().exactOptional(),
        }),
      ])
      .default({ type: "paper", slippageBps: 0 }),
    /**
     * What a broker error does (brokerPolicy.ts): a timeout, a network error or a 5xx is retried
     * up to `retries` times, `backoffMs` x 2^attempt apart (after asking the broker whether the
     * order arrived); a rejection or a disabled broker is abandoned at once. Each error is
     * journaled; the run never ends on one.
     */
    brokerPolicy: z
      .object({
        retries: z.number().int().min(0).max(10).default(2),
        backoffMs: z.number().finite().nonnegative().default(500),
        timeoutMs: positive.default(10_000),
      })
      .default({ retries: 2, backoffMs: 500, timeoutMs: 10_000 }) satisfies z.ZodType<BrokerPolicy>,
    policy: z.object({
      deltaBand: positive,
      hedgeInstrument: z.string().min(1),
      vegaTargetPerVolPoint: z.number().finite(),
      vegaTolerancePerVolPoint: positive,
      vegaExpiryDays: positive.default(30),
      rollHours: positive.default(24),
      lotSize: positive.default(0.1),
      maxOrderContracts: positive,
      limitSlippage: z.number().finite().nonnegative().default(0.02),
    }),
    limits: z.object({
      maxOptionContracts: positive,
      maxFutureContracts: positive,
      maxOrderNotionalUsd: positive,
      maxAbsDelta: positive,
      maxAbsVegaPerVolPoint: positive,
      maxMarginUsd: positive.exactOptional(),
      /** Order rate: at most this many orders sent in the last `orderWindowMs` of the decision clock. */
      maxOrdersPerWindow: z.number().int().positive().exactOptional(),
      orderWindowMs: positive.exactOptional(),
      /** Largest |position| of any one instrument (coins of the underlying) an order may grow to. */
      maxPositionCoins: positive.exactOptional(),
      /** Largest fall of book equity (USD, core valuation) since the start of the UTC day before only risk-reducing orders pass. */
      maxDailyLossUsd: positive.exactOptional(),
    }) satisfies z.ZodType<PreTradeLimits>,
    health: z
      .object({
        maxStalenessMs: positive.default(DEFAULT_HEALTH_LIMITS.maxStalenessMs),
        maxCrossedShare: z.number().min(0).max(1).default(DEFAULT_HEALTH_LIMITS.maxCrossedShare),
        minQuotes: z.number().int().nonnegative().default(DEFAULT_HEALTH_LIMITS.minQuotes),
        maxIndexJump: positive.default(DEFAULT_HEALTH_LIMITS.maxIndexJump),
        jumpConfirmTicks: z.number().int().positive().default(DEFAULT_HEALTH_LIMITS.jumpConfirmTicks),
      })
      .default({ ...DEFAULT_HEALTH_LIMITS }) satisfies z.ZodType<HealthLimits>,
    /**
     * Mirror of the journal (every decision, order, fill, mode change) into the snapshot store,
     * queryable with SQL (table `records`, tbl = `table`); with `saveSnapshots` every tick's chain
     * is saved too. The fsync'ed journal in stateDir stays the write-ahead log; the mirror is
     * idempotent (key = runId:line), so a restart re-sends without duplicates.
     */
    store: z
      .discriminatedUnion("type", [
        z.object({ type: z.literal("duckdb"), dir: z.string().min(1) }),
        /** url, or the environment variable VOLFOLIO_PG_URL when absent. */
        z.object({ type: z.literal("postgres"), url: z.string().min(1).exactOptional() }),
      ])
      .and(
        z.object({
          table: z
            .string()
            .regex(/^[a-z_][a-z0-9_]{0,40}$/)
            .default("agent_journal"),
          saveSnapshots: z.boolean().default(false),
        }),
      )
      .exactOptional(),
    /**
     * Crash recovery: an interrupted tick's unsent orders decided longer ago than this (wall
     * clock) are cancelled, not sent (loop.ts recover).
     */
    recovery: z.object({ maxDecisionAgeMs: positive.default(60_000) }).default({ maxDecisionAgeMs: 60_000 }),
    /** The agent stops trading while this file exists (default <stateDir>/KILL). */
    killSwitchFile: z.string().exactOptional(),
    http: z
      .object({ port: z.number().int().min(0).max(65535).default(0), host: z.string().default("127.0.0.1") })
      .exactOptional(),
    analytics: agentAnalyticsSchema.exactOptional(),
    /** HMM regime signal: scales a short-vol target down as P(high vol) rises (src/agent/regime.ts). */
    regime: agentRegimeSchema.exactOptional(),
  })
  .strict();

export type AgentConfig = z.infer<typeof agentConfigSchema>;

/** Parses a config object; errors name every offending path. */
export function parseAgentConfig(raw: unknown): AgentConfig {
  const r = agentConfigSchema.safeParse(raw);
  if (!r.success) {
    throw new AgentConfigError(formatZodIssues(r.error));
  }
  return r.data;
}

export class AgentConfigError extends Error {
  constructor(problems: string) {
    super(`invalid agent config: ${problems}`);
    this.name = "AgentConfigError";
  }
}

/** Reads and checks a config file; an unreadable file is an InputFileError naming the path. */
export async function loadAgentConfig(path: string): Promise<AgentConfig> {
  const text = await readInputText(path, "config");
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new AgentConfigError(`${path} is not JSON (${(err as Error).message})`);
  }
  return parseAgentConfig(raw);
}
