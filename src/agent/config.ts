/**
 * Agent configuration file (JSON), validated with zod at the edge. Secrets are never in this
 * file: the Deribit broker reads DERIBIT_CLIENT_ID / DERIBIT_CLIENT_SECRET from the environment.
 */
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { DEFAULT_HEALTH_LIMITS } from "./health.js";

const positive = z.number().finite().positive();

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
      z.object({ type: z.literal("files"), dir: z.string().min(1) }),
      z.object({
        type: z.literal("deribit"),
        intervalSeconds: positive.default(60),
        /** "ws": public WebSocket JSON-RPC (default); "rest": public REST. */
        transport: z.enum(["ws", "rest"]).default("ws"),
        /** REST base URL (default https://www.deribit.com). */
        baseUrl: z.string().url().optional(),
        /** WebSocket URL (default wss://www.deribit.com/ws/api/v2). */
        wsUrl: z.string().url().optional(),
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
          baseUrl: z.string().url().optional(),
        }),
      ])
      .default({ type: "paper", slippageBps: 0 }),
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
      maxMarginUsd: positive.optional(),
    }),
    health: z
      .object({
        maxStalenessMs: positive.default(DEFAULT_HEALTH_LIMITS.maxStalenessMs),
        maxCrossedShare: z.number().min(0).max(1).default(DEFAULT_HEALTH_LIMITS.maxCrossedShare),
        minQuotes: z.number().int().nonnegative().default(DEFAULT_HEALTH_LIMITS.minQuotes),
        maxIndexJump: positive.default(DEFAULT_HEALTH_LIMITS.maxIndexJump),
      })
      .default({ ...DEFAULT_HEALTH_LIMITS }),
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
        z.object({ type: z.literal("postgres"), url: z.string().min(1).optional() }),
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
      .optional(),
    /** The agent stops trading while this file exists (default <stateDir>/KILL). */
    killSwitchFile: z.string().optional(),
    http: z
      .object({ port: z.number().int().min(0).max(65535).default(0), host: z.string().default("127.0.0.1") })
      .optional(),
  })
  .strict();

export type AgentConfig = z.infer<typeof agentConfigSchema>;

/** Parses a config object; errors name every offending path. */
export function parseAgentConfig(raw: unknown): AgentConfig {
  const r = agentConfigSchema.safeParse(raw);
  if (!r.success) {
    const problems = r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    throw new AgentConfigError(problems);
  }
  return r.data;
}

export class AgentConfigError extends Error {
  constructor(problems: string) {
    super(`invalid agent config: ${problems}`);
    this.name = "AgentConfigError";
  }
}

export async function loadAgentConfig(path: string): Promise<AgentConfig> {
  const text = await readFile(path, "utf8");
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new AgentConfigError(`${path} is not JSON (${(err as Error).message})`);
  }
  return parseAgentConfig(raw);
}
