/**
 * The dashboard server (fastify 5): the page, /vendor/plotly.min.js, /api/report, /api/agent,
 * and the position builder's /api/builder/chain and POST /api/builder/evaluate (web/builder.ts,
 * zod-validated body; 400 with the field named on bad input).
 * Binds 127.0.0.1 by default; any other host requires a token of 16+ characters, and then every
 * request must carry `Authorization: Bearer <token>` or the session cookie. The browser opens
 * `/?token=<token>` once: the server answers with the cookie (HttpOnly, SameSite=Strict) and a
 * redirect to `/`, so the page's own requests (plotly, app.js, /api/...) carry the cookie and the
 * token leaves the address bar and the history. Nothing is logged (fastify logger off), so no
 * token reaches a log; `?token=` on other paths is still accepted for scripts.
 * /api/agent proxies GET {agentUrl}/state of a running `volfolio agent` (its http endpoint,
 * src/agent/http.ts), sending `Authorization: Bearer <VOLFOLIO_AGENT_TOKEN>` when a token is set.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { timingSafeEqual } from "node:crypto";
import Fastify, { type FastifyInstance } from "fastify";
import {
  BuilderInputError,
  type BuilderMarket,
  builderChain,
  builderLegsFromBook,
  evaluateBuilder,
} from "./builder.js";
import type { DemoReport } from "./report.js";

/** Name of the session cookie set from `/?token=`. */
export const TOKEN_COOKIE = "volfolio_token";

/** Constant-time string comparison. */
function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The value of cookie `name` in a Cookie header, or undefined. */
function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) {
      try {
        return decodeURIComponent(part.slice(i + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

const HERE = dirname(fileURLToPath(import.meta.url));

/** Static page directory: src/web/static from src (tsx) or from dist (tsc does not copy it). */
export function staticDir(): string {
  for (const d of [resolve(HERE, "static"), resolve(HERE, "../../src/web/static")])
    if (existsSync(resolve(d, "index.html"))) return d;
  throw new Error(`dashboard static files not found next to ${HERE}`);
}

/** Path of plotly.min.js in node_modules. */
export function plotlyPath(): string {
  return createRequire(import.meta.url).resolve("plotly.js-dist-min/plotly.min.js");
}

export function isLoopback(host: string): boolean {
  return host === "127.0.0.1" || host === "::1" || host === "localhost" || /^127\./.test(host);
}

export interface ServerOptions {
  readonly report: DemoReport;
  readonly host?: string;
  readonly port?: number;
  readonly token?: string;
  /** Live agent state, if an agent runs in this process. */
  readonly agentState?: () => unknown;
  /** Base URL of a running agent's http endpoint (e.g. http://127.0.0.1:8788); /state is appended. */
  readonly agentUrl?: string;
  /** Bearer token of the agent endpoint (the agent's VOLFOLIO_AGENT_TOKEN). */
  readonly agentToken?: string;
  /** Timeout of one agent request, ms (default 3000). */
  readonly agentTimeoutMs?: number;
  /** The position builder's market (absent: the Builder tab says how to get one); a function when
   *  it is refreshed live (web/live.ts). */
  readonly builder?: BuilderMarket | (() => BuilderMarket | undefined);
  /** Live refresh status (serve --live): GET /api/live. */
  readonly live?: () => unknown;
}

/** Shown on the Builder tab when the server has no market (serve --report). */
export const BUILDER_HINT =
  "no market loaded: the builder needs a chain. Run `volfolio demo` or `volfolio serve --chain FILE` (or --live, --synthetic)";

/** How to get a live agent on the Agent tab (shown when none is configured). */
export const AGENT_HINT =
  'no agent connected. Start one with an http endpoint, e.g. `volfolio agent --config examples/agent.json` with "http": {"port": 8788} in the config, then `volfolio serve --report FILE --agent-url http://127.0.0.1:8788` (or `volfolio demo --agent-url ...`); set VOLFOLIO_AGENT_TOKEN if the agent requires a token';

/** The /api/agent answer. */
export type AgentPanel =
  | { running: true; source: string; state: unknown }
  | { running: false; source: string | null; error?: string; hint?: string };

/** Checks an --agent-url value: http(s), no query; returns it without a trailing slash. */
export function parseAgentUrl(v: string): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new Error(`--agent-url must be an http(s) URL, got "${v}"`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:")
    throw new Error(`--agent-url must be an http(s) URL, got "${v}"`);
  return v.replace(/\/+$/, "");
}

/** GET {url}/state once; never throws (an unreachable agent is a `running: false` answer). */
export async function fetchAgentState(url: string, token?: string, timeoutMs = 3000): Promise<AgentPanel> {
  const target = `${url}/state`;
  try {
    const res = await fetch(target, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (res.status === 401)
      return {
        running: false,
        source: target,
        error: `${target} answered 401: set VOLFOLIO_AGENT_TOKEN to the agent's token`,
      };
    if (!res.ok) return { running: false, source: target, error: `${target} answered HTTP ${res.status}` };
    return { running: true, source: target, state: await res.json() };
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const why =
      err.name === "TimeoutError"
        ? `no answer in ${timeoutMs} ms`
        : (err.cause?.code ?? err.cause?.message ?? err.message);
    return { running: false, source: target, error: `cannot reach ${target}: ${why}` };
  }
}

/**
 * The token check of every request: the page opened with ?token= sets the session cookie and
 * drops the token from the URL (303); otherwise a Bearer header, ?token= or the cookie must match.
 */
function addTokenHook(app: FastifyInstance, token: string): void {
  app.addHook("onRequest", async (req, reply) => {
    const auth = req.headers.authorization ?? "";
    const q = (req.query as { token?: string } | undefined)?.token;
    const c = cookieValue(req.headers.cookie, TOKEN_COOKIE);
    const path = req.url.split("?")[0];
    if (q !== undefined && sameSecret(q, token) && path === "/") {
      reply
        .code(303)
        .header(
          "set-cookie",
          `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
        )
        .header("location", "/")
        .header("cache-control", "no-store")
        .send();
      return reply;
    }
    const ok =
      sameSecret(auth, `Bearer ${token}`) ||
      (q !== undefined && sameSecret(q, token)) ||
      (c !== undefined && sameSecret(c, token));
    if (!ok) {
      reply
        .code(401)
        .send({ error: "unauthorized: open /?token=<token> or send Authorization: Bearer <token>" });
      return reply;
    }
  });
}

/** The page, its script and plotly, and the report. */
function addPageRoutes(app: FastifyInstance, report: DemoReport): void {
  const dir = staticDir();
  const send =
    (file: string, type: string) =>
    async (_req: unknown, reply: { type: (t: string) => { send: (b: Buffer) => unknown } }) =>
      reply.type(type).send(await readFile(file));
  app.get("/", send(resolve(dir, "index.html"), "text/html; charset=utf-8"));
  app.get("/app.js", send(resolve(dir, "app.js"), "text/javascript; charset=utf-8"));
  app.get("/vendor/plotly.min.js", send(plotlyPath(), "text/javascript; charset=utf-8"));
  app.get("/api/report", async () => report);
}

/** /api/agent: the in-process agent's state, a running agent's /state, or the hint. */
function addAgentRoute(app: FastifyInstance, o: ServerOptions): void {
  const agentUrl = o.agentUrl ? parseAgentUrl(o.agentUrl) : undefined;
  app.get("/api/agent", async (): Promise<AgentPanel> => {
    if (o.agentState) return { running: true, source: "in-process", state: o.agentState() };
    if (agentUrl) return fetchAgentState(agentUrl, o.agentToken, o.agentTimeoutMs);
    return { running: false, source: null, hint: AGENT_HINT };
  });
}

/** The builder's routes on the current market (404 without one; a bad request is 400 naming the field). */
function addBuilderRoutes(app: FastifyInstance, o: ServerOptions): void {
  const market = (): BuilderMarket | undefined => (typeof o.builder === "function" ? o.builder() : o.builder);
  // 200 with available: false when there is no market (a 404 would be a console error on the page).
  app.get("/api/builder/chain", async () => {
    const m = market();
    return m ? { available: true, ...builderChain(m) } : { available: false, error: BUILDER_HINT };
  });
  app.get("/api/live", async () => (o.live ? o.live() : { live: false }));
  const post = (path: string, run: (m: BuilderMarket, body: unknown) => unknown) =>
    app.post(path, async (req, reply) => {
      const m = market();
      if (!m) return reply.code(404).send({ error: BUILDER_HINT });
      try {
        return run(m, req.body);
      } catch (e) {
        if (e instanceof BuilderInputError) return reply.code(400).send({ error: e.message, field: e.field });
        throw e;
      }
    });
  post("/api/builder/evaluate", evaluateBuilder);
  post("/api/builder/book", builderLegsFromBook);
}

/** Builds the app and listens; returns the app and the URL. */
export async function startDashboardServer(o: ServerOptions): Promise<{ app: FastifyInstance; url: string }> {
  const host = o.host ?? "127.0.0.1";
  const token = o.token ?? "";
  if (!isLoopback(host) && token.length < 16)
    throw new Error(`binding ${host} requires --token (or VOLFOLIO_TOKEN) of at least 16 characters`);
  const app = Fastify({ logger: false });
  if (token) addTokenHook(app, token);
  addPageRoutes(app, o.report);
  addAgentRoute(app, o);
  addBuilderRoutes(app, o);
  await app.listen({ host, port: o.port ?? 0 });
  const port = (app.server.address() as { port: number }).port;
  const shown = host.includes(":") ? `[${host}]` : host;
  return { app, url: `http://${shown}:${port}/` };
}

/** A self-contained report.html: the page with plotly, app.js and the data inlined. */
export async function renderReportHtml(report: DemoReport): Promise<string> {
  const dir = staticDir();
  const [html, app, plotly] = await Promise.all([
    readFile(resolve(dir, "index.html"), "utf8"),
    readFile(resolve(dir, "app.js"), "utf8"),
    readFile(plotlyPath(), "utf8"),
  ]);
  const data = JSON.stringify(report).replace(/</g, "\\u003c");
  const esc = (s: string) => s.replace(/<\/script/gi, "<\\/script");
  return html
    .replace('<script src="/vendor/plotly.min.js"></script>', () => `<script>${esc(plotly)}</script>`)
    .replace(
      '<script src="/app.js"></script>',
      () => `<script>window.VOLFOLIO_REPORT = ${data};</script>\n<script>${esc(app)}</script>`,
    );
}
