/**
 * The dashboard server (fastify 5): the page, /vendor/plotly.min.js, /api/report, /api/agent.
 * Binds 127.0.0.1 by default; any other host requires a token, and then every request must
 * carry `Authorization: Bearer <token>` (or `?token=` for the browser page).
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
  app.get("/api/agent", async () => o.agentState?.() ?? { running: false });
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
