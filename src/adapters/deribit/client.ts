/**
 * Live client for Deribit's public REST API v2 (no key needed): timeouts (AbortController),
 * retries with exponential backoff + full jitter on 429 / 5xx / network errors (never on other
 * 4xx), a token-bucket rate limiter (Deribit credits: 500 per request, 50,000 pool, 10,000/s),
 * zod validation of every response envelope and payload (schemas from ./apiShapes.ts).
 *
 * Base URL: https://www.deribit.com (default), https://test.deribit.com (testnet), or any URL
 * (tests use a fake server on 127.0.0.1). Times in milliseconds.
 *
 * Example:
 *   const chain = await fetchDeribitChain({ currency: "BTC" }); // ChainSnapshot, prices in coin
 */
import { z } from "zod";
import type { ChainSnapshot } from "../../core/market/types.js";
import {
  type DeribitApiChains,
  deribitBookSummarySchema,
  deribitEntriesToChains,
  deribitTickerSchema,
} from "./apiShapes.js";
import { DeribitTokenBucket } from "./rateLimit.js";
import { formatZodIssues } from "../zodIssues.js";

export const DERIBIT_MAINNET_URL = "https://www.deribit.com";
export const DERIBIT_TESTNET_URL = "https://test.deribit.com";

export type DeribitClientErrorKind =
  | "network" // DNS, connection refused, reset: the host could not be reached
  | "timeout" // no complete response within timeoutMs
  | "http" // non-2xx status after retries (or a non-retryable 4xx)
  | "malformed" // body is not JSON or fails the schema
  | "api"; // JSON-RPC error object { error: { code, message } }

/** The JSON-RPC envelope's validated `result`; malformed, API and HTTP errors throw. */
function parseDeribitResponse<T>(
  url: string,
  status: number,
  httpOk: boolean,
  text: string,
  attempt: number,
  schema: z.ZodType<T>,
): T {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new DeribitClientError("malformed", `${url}: response is not JSON (HTTP ${status})`, {
      url,
      status,
      attempts: attempt,
    });
  }
  const env = envelope.safeParse(json);
  if (!env.success)
    throw new DeribitClientError("malformed", `${url}: not a JSON-RPC envelope`, { url, attempts: attempt });
  if (env.data.error) {
    const { code, message } = env.data.error;
    throw new DeribitClientError("api", `${url}: Deribit error ${code}: ${message}`, {
      url,
      status,
      code,
      attempts: attempt,
    });
  }
  if (!httpOk)
    throw new DeribitClientError("http", `${url}: HTTP ${status}`, { url, status, attempts: attempt });
  const parsed = schema.safeParse(env.data.result);
  if (!parsed.success) {
    const why = formatZodIssues(parsed.error, { root: "result", limit: 3 });
    throw new DeribitClientError("malformed", `${url}: unexpected result shape (${why})`, {
      url,
      attempts: attempt,
    });
  }
  return parsed.data;
}

/** Typed failure of a Deribit request; `kind` tells the cause, `attempts` how many were made. */
export class DeribitClientError extends Error {
  constructor(
    readonly kind: DeribitClientErrorKind,
    message: string,
    readonly details: { url: string; status?: number; code?: number; attempts: number },
  ) {
    super(message);
    this.name = "DeribitClientError";
  }
}

export interface DeribitClientOptions {
  /** Base URL without trailing slash (default https://www.deribit.com). */
  readonly baseUrl?: string;
  /** Per-attempt timeout in ms (default 10,000). */
  readonly timeoutMs?: number;
  /** Retries after the first attempt on 429/5xx/network/timeout (default 4). */
  readonly maxRetries?: number;
  /** First backoff in ms; attempt n waits uniform(0, min(maxBackoffMs, base * 2^n)) (default 250). */
  readonly backoffBaseMs?: number;
  readonly maxBackoffMs?: number;
  /** Shared limiter (default: Deribit's public credit limits). */
  readonly rateLimiter?: DeribitTokenBucket;
  /** Jitter source in [0,1) (default Math.random; inject for deterministic tests). */
  readonly random?: () => number;
  readonly fetchImpl?: typeof fetch;
}

const envelope = z.looseObject({
  jsonrpc: z.string().optional(),
  result: z.unknown().optional(),
  error: z.looseObject({ code: z.number(), message: z.string() }).optional(),
  usIn: z.number().optional(),
  usOut: z.number().optional(),
});

const instrumentSchema = z.looseObject({
  instrument_name: z.string().min(1),
  kind: z.string(),
  expiration_timestamp: z.number().optional(),
  strike: z.number().nullable().optional(),
  option_type: z.enum(["call", "put"]).nullable().optional(),
  settlement_currency: z.string().optional(),
  contract_size: z.number().optional(),
  is_active: z.boolean().optional(),
});
export type DeribitInstrumentInfo = z.infer<typeof instrumentSchema>;

const indexPriceSchema = z.looseObject({
  index_price: z.number(),
  estimated_delivery_price: z.number().optional(),
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** True for statuses worth retrying: 429 (rate limited) and 5xx. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

export class DeribitRestClient {
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly limiter: DeribitTokenBucket;
  private readonly backoffBaseMs: number;
  private readonly maxBackoffMs: number;
  private readonly random: () => number;
  private readonly fetchImpl: typeof fetch;
  /** Requests sent (attempts, including retries). */
  attempts = 0;

  constructor(options: DeribitClientOptions = {}) {
    this.baseUrl = (options.baseUrl ?? DERIBIT_MAINNET_URL).replace(/\/+$/, "");
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxRetries = options.maxRetries ?? 4;
    this.backoffBaseMs = options.backoffBaseMs ?? 250;
    this.maxBackoffMs = options.maxBackoffMs ?? 8_000;
    this.limiter = options.rateLimiter ?? new DeribitTokenBucket();
    this.random = options.random ?? Math.random;
    this.fetchImpl = options.fetchImpl ?? fetch;
  }

  /** Backoff before retry number `n` (0-based): full jitter on an exponential cap. */
  backoffMs(n: number): number {
    return Math.floor(this.random() * Math.min(this.maxBackoffMs, this.backoffBaseMs * 2 ** n));
  }

  /** GET /api/v2/public/{method}?params; returns the validated `result`. */
  async call<T>(
    method: string,
    params: Record<string, string | number | boolean>,
    schema: z.ZodType<T>,
  ): Promise<T> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) qs.set(k, String(v));
    const url = `${this.baseUrl}/api/v2/public/${method}?${qs}`;
    let attempt = 0;
    for (;;) {
      attempt++;
      await this.limiter.acquire();
      this.attempts++;
      const r = await this.attemptOnce(url, attempt, schema);
      if (r.ok) return r.value;
      if (attempt > this.maxRetries) throw r.error;
      await sleep(this.backoffMs(attempt - 1));
    }
  }

  /**
   * One request: the validated result, or a retryable error (retryable HTTP status, timeout,
   * network failure); an error in a response that arrived (malformed, API error) throws.
   */
  private async attemptOnce<T>(
    url: string,
    attempt: number,
    schema: z.ZodType<T>,
  ): Promise<{ ok: true; value: T } | { ok: false; error: DeribitClientError }> {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), this.timeoutMs);
    let received = false;
    try {
      const res = await this.fetchImpl(url, { signal: ac.signal, headers: { accept: "application/json" } });
      const text = await res.text();
      clearTimeout(timer);
      received = true;
      if (!res.ok && isRetryableStatus(res.status)) {
        const error = new DeribitClientError("http", `${url}: HTTP ${res.status}`, {
          url,
          status: res.status,
          attempts: attempt,
        });
        return { ok: false, error };
      }
      return { ok: true, value: parseDeribitResponse(url, res.status, res.ok, text, attempt, schema) };
    } catch (err) {
      clearTimeout(timer);
      if (err instanceof DeribitClientError || received) throw err;
      if (ac.signal.aborted) {
        const error = new DeribitClientError("timeout", `${url}: no response within ${this.timeoutMs} ms`, {
          url,
          attempts: attempt,
        });
        return { ok: false, error };
      }
      const cause =
        err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
      return {
        ok: false,
        error: new DeribitClientError("network", `${url}: ${cause}`, { url, attempts: attempt }),
      };
    }
  }

  /** public/get_instruments (kind defaults to option). */
  getInstruments(currency: string, kind = "option", expired = false): Promise<DeribitInstrumentInfo[]> {
    return this.call("get_instruments", { currency, kind, expired }, z.array(instrumentSchema));
  }

  /** public/get_book_summary_by_currency; entries validated with the shared book-summary schema. */
  getBookSummaryByCurrency(currency: string, kind = "option") {
    return this.call("get_book_summary_by_currency", { currency, kind }, z.array(deribitBookSummarySchema));
  }

  /** public/ticker for one instrument. */
  getTicker(instrumentName: string) {
    return this.call("ticker", { instrument_name: instrumentName }, deribitTickerSchema);
  }

  /** public/get_index_price, index_name like "btc_usd"; USD. */
  getIndexPrice(indexName: string) {
    return this.call("get_index_price", { index_name: indexName }, indexPriceSchema);
  }
}

export interface FetchDeribitChainOptions extends DeribitClientOptions {
  /** Coin, e.g. "BTC", "ETH" (inverse options) or "USDC" (linear options). */
  readonly currency: string;
  /** Reuse an existing client (its options win). */
  readonly client?: DeribitRestClient;
  /** Also pull futures (for forwards); default true. */
  readonly includeFutures?: boolean;
}

export interface FetchedDeribitChain {
  /** The snapshot for `currency` (for USDC: one per underlying, the first is `chain`). */
  readonly chain: ChainSnapshot;
  readonly result: DeribitApiChains;
  /** The raw book-summary entries (options then futures), e.g. to save as a JSON payload file. */
  readonly entries: readonly unknown[];
  /** Active option instruments listed by get_instruments. */
  readonly instrumentsListed: number;
  /** Listed instruments with no book-summary entry. */
  readonly missingFromSummary: string[];
  readonly requests: number;
}

/**
 * Pulls get_instruments + get_book_summary_by_currency (options, and futures unless disabled)
 * and builds the ChainSnapshot with the shared normalization (IVs decimal, empty sides null).
 * Rejected entries are kept in `result.rejected` with reasons.
 */
export async function fetchDeribitChain(options: FetchDeribitChainOptions): Promise<FetchedDeribitChain> {
  const client = options.client ?? new DeribitRestClient(options);
  const currency = options.currency.toUpperCase();
  const before = client.attempts;
  const instruments = await client.getInstruments(currency, "option");
  const summaries: unknown[] = await client.getBookSummaryByCurrency(currency, "option");
  if (options.includeFutures !== false && currency !== "USDC") {
    summaries.push(...(await client.getBookSummaryByCurrency(currency, "future")));
  }
  const result = deribitEntriesToChains(summaries);
  const chain = result.chains.find((c) => c.underlying === currency) ?? result.chains[0];
  if (!chain) {
    throw new DeribitClientError(
      "malformed",
      `${client.baseUrl}: no ${currency} options chain could be built (${result.rejected.length} entries rejected)`,
      { url: client.baseUrl, attempts: client.attempts - before },
    );
  }
  const seen = new Set(
    (summaries as { instrument_name?: unknown }[]).map((s) =>
      typeof s.instrument_name === "string" ? s.instrument_name : "",
    ),
  );
  const missingFromSummary = instruments.map((i) => i.instrument_name).filter((n) => !seen.has(n));
  return {
    chain,
    result,
    entries: summaries,
    instrumentsListed: instruments.length,
    missingFromSummary,
    requests: client.attempts - before,
  };
}
