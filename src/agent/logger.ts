/**
 * Structured logs (pino, JSON lines). Secrets never reach the output: every line is scrubbed of
 * the values of the secret environment variables (whatever field or message carries them), and
 * well-known secret fields are redacted by path.
 */
import pino, { type DestinationStream, type Logger } from "pino";

/** Environment variables whose values must never appear in a log line. */
export const SECRET_ENV_VARS = [
  "DERIBIT_CLIENT_ID",
  "DERIBIT_CLIENT_SECRET",
  "VOLFOLIO_AGENT_TOKEN",
  "VOLFOLIO_TOKEN",
] as const;

export function createAgentLogger(options: {
  destination?: DestinationStream;
  env?: Record<string, string | undefined>;
  level?: string;
}): Logger {
  const env = options.env ?? process.env;
  const secrets = SECRET_ENV_VARS.map((k) => env[k]).filter(
    (v): v is string => typeof v === "string" && v.length >= 4,
  );
  return pino(
    {
      level: options.level ?? "info",
      base: { service: "volfolio-agent" },
      redact: {
        paths: ["*.client_secret", "*.clientSecret", "*.password", "*.token", "*.authorization"],
        censor: "[redacted]",
      },
      hooks: {
        streamWrite: (line: string) =>
          secrets.reduce((s, secret) => s.split(secret).join("[redacted]"), line),
      },
    },
    options.destination ?? pino.destination(2),
  );
}
