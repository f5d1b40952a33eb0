/**
 * The agent's control and observation endpoint (fastify): GET /state, POST /kill, POST /resume.
 * Binds 127.0.0.1 by default; any other host requires a token (VOLFOLIO_AGENT_TOKEN), then
 * every request must send `Authorization: Bearer <token>`.
 */
import Fastify, { type FastifyInstance } from "fastify";
import type { KillSwitch } from "./killSwitch.js";

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

export async function startAgentHttp(options: {
  host?: string;
  port?: number;
  token?: string;
  state: () => unknown;
  killSwitch: KillSwitch;
}): Promise<{ app: FastifyInstance; url: string }> {
  const host = options.host ?? "127.0.0.1";
  if (!LOOPBACK.has(host) && !options.token) {
    throw new Error(`binding the agent to ${host} requires a token (set VOLFOLIO_AGENT_TOKEN)`);
  }
  const app = Fastify({ logger: false });
  if (options.token) {
    const expected = `Bearer ${options.token}`;
    app.addHook("onRequest", async (req, reply) => {
      if (req.headers.authorization !== expected)
        await reply.code(401).send({ error: "missing or wrong bearer token" });
    });
  }
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
  return { app, url: address };
}
