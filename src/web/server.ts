/**
 * The dashboard server (fastify 5): the page, /vendor/plotly.min.js, /api/report, /api/agent.
 * Binds 127.0.0.1 by default; any other host requires a token, and then every request must
 * carry `Authorization: Bearer <token>` (or `?token=` for the browser page).
 * /api/agent proxies GET {agentUrl}/state of a running `volfolio agent` (its http endpoint,
 * src/agent/http.ts), sending `Authorization: Bearer <VOLFOLIO_AGENT_TOKEN>` when a token is set.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import Fastify, { type FastifyInstance } from "fastify";
import type { DemoReport } from "./report.js";

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
}

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

/** Builds the app and listens; returns the app and the URL. */
export async function startDashboardServer(o: ServerOptions): Promise<{ app: FastifyInstance; url: string }> {
  const host = o.host ?? "127.0.0.1";
  const token = o.token ?? "";
  if (!isLoopback(host) && token.length < 16)
    throw new Error(`binding ${host} requires --token (or VOLFOLIO_TOKEN) of at least 16 characters`);
  const app = Fastify({ logger: false });
  if (token) {
    app.addHook("onRequest", async (req, reply) => {
      const auth = req.headers.authorization ?? "";
      const q = (req.query as { token?: string } | undefined)?.token;
      if (auth !== `Bearer ${token}` && q !== token) {
        reply.code(401).send({ error: "unauthorized" });
      }
    });
  }
  const dir = staticDir();
  const send =
    (file: string, type: string) =>
    async (_req: unknown, reply: { type: (t: string) => { send: (b: Buffer) => unknown } }) =>
      reply.type(type).send(await readFile(file));
  app.get("/", send(resolve(dir, "index.html"), "text/html; charset=utf-8"));
  app.get("/app.js", send(resolve(dir, "app.js"), "text/javascript; charset=utf-8"));
  app.get("/vendor/plotly.min.js", send(plotlyPath(), "text/javascript; charset=utf-8"));
  app.get("/api/report", async () => o.report);
  const agentUrl = o.agentUrl ? parseAgentUrl(o.agentUrl) : undefined;
  app.get("/api/agent", async (): Promise<AgentPanel> => {
    if (o.agentState) return { running: true, source: "in-process", state: o.agentState() };
    if (agentUrl) return fetchAgentState(agentUrl, o.agentToken, o.agentTimeoutMs);
    return { running: false, source: null, hint: AGENT_HINT };
  });
  const addr = await app.listen({ host, port: o.port ?? 0 });
  const port = (app.server.address() as { port: number }).port;
  const shown = host.includes(":") ? `[${host}]` : host;
  void addr;
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
