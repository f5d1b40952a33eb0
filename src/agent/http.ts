/**
 * The agent's control and observation endpoint (fastify): GET /state, POST /kill, POST /resume.
 *
 * Security (issue 19):
 * - A token is always set: VOLFOLIO_AGENT_TOKEN, or one generated at start (run.ts writes it to
 *   `<stateDir>/agent.token`, mode 0600, and prints that path, never the token). Tokens shorter
 *   than 16 characters are refused on any bind (AgentHttpConfigError).
 * - State-changing requests (POST /kill, POST /resume) always need `Authorization: Bearer
 *   <token>` (compared in constant time). GET /state needs it too unless the endpoint is bound
 *   to a loopback address (a local dashboard may read it without one).
 * - Host is checked on a loopback bind: only 127.0.0.1, localhost and [::1] with the listening
 *   port are answered, so a DNS-rebound name cannot reach the endpoint (on another bind every
 *   request needs the token).
 * - Origin (when sent) must be the request's own Host, and a browser's `Sec-Fetch-Site:
 *   cross-site` is refused: no web page can POST /kill or /resume.
 * Refusals are 401 (token) or 403 (Host, Origin); no answer ever contains the token.
 */
import { timingSafeEqual } from "node:crypto";
import Fastify, { type FastifyInstance } from "fastify";
import type { KillSwitch } from "./killSwitch.js";

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);
export const MIN_TOKEN_LENGTH = 16;

/** A refused endpoint configuration (short token, non-loopback bind without one). */
export class AgentHttpConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AgentHttpConfigError";
  }
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `host:port` forms a request may name the endpoint by (lower case). */
function allowedHosts(host: string, port: number): Set<string> {
  const names = new Set([host, "127.0.0.1", "localhost", "[::1]"]);
  if (host === "::1") names.add("[::1]");
  const out = new Set<string>();
  for (const n of names) {
    const name = n.includes(":") && !n.startsWith("[") ? `[${n}]` : n;
    out.add(`${name}:${port}`.toLowerCase());
  }
  return out;
}

export async function startAgentHttp(options: {
  host?: string;
  port?: number;
  token: string;
  state: () => unknown;
  killSwitch: KillSwitch;
}): Promise<{ app: FastifyInstance; url: string }> {
  const host = options.host ?? "127.0.0.1";
  const token = options.token;
  if (typeof token !== "string" || token.length < MIN_TOKEN_LENGTH)
    throw new AgentHttpConfigError(
      `the agent endpoint token must be at least ${MIN_TOKEN_LENGTH} characters (VOLFOLIO_AGENT_TOKEN has ${typeof token === "string" ? token.length : 0}); unset it to have one generated`,
    );
  const loopback = LOOPBACK.has(host);
  const app = Fastify({ logger: false });
  let allowed = new Set<string>();
  app.addHook("onRequest", async (req, reply) => {
    const h = (req.headers.host ?? "").toLowerCase();
    if (loopback && !allowed.has(h)) return reply.code(403).send({ error: "Host not allowed" });
    const origin = req.headers.origin;
    if (origin !== undefined) {
      let ok = false;
      try {
        const o = new URL(origin);
        ok = o.protocol === "http:" && o.host.toLowerCase() === h;
      } catch {
        ok = false;
      }
      if (!ok) return reply.code(403).send({ error: "cross-origin request refused" });
    }
    if (req.headers["sec-fetch-site"] === "cross-site")
      return reply.code(403).send({ error: "cross-site request refused" });
    const needsToken = req.method !== "GET" && req.method !== "HEAD" ? true : !loopback;
    if (!needsToken) return;
    const auth = req.headers.authorization ?? "";
    const given = auth.startsWith("Bearer ") ? auth.slice(7) : "";
    if (!sameToken(given, token)) return reply.code(401).send({ error: "missing or wrong bearer token" });
  });
  app.get("/state", async () => options.state());
  app.post("/kill", async () => {
    options.killSwitch.engage("HTTP /kill");
    return { killed: true };
  });
  app.post("/resume", async () => {
    options.killSwitch.release();
    return { killed: false };
  });
  const address = await app.listen({ host, port: options.port ?? 0 });
  const port = new URL(address).port;
  allowed = allowedHosts(host, Number(port));
  return { app, url: address };
}
