// The one place that reads process.env. Every setting is validated here, once, and documented in the README.
import { z } from "zod";

/** An empty string counts as unset, so `VT_API_KEY=` in a shell or compose file means "no key". */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === "" ? undefined : value), schema.optional());

const count = (name: string) =>
  optional(z.coerce.number({ error: `${name} must be a number` }).int().positive(`${name} must be a positive integer`));

/** A limit: a positive integer, or 0 for none. */
const limit = (name: string) =>
  optional(z.coerce.number({ error: `${name} must be a number` }).int().min(0, `${name} must be 0 (no limit) or more`));

const schema = z.object({
  DATABASE_URL: optional(z.url({ error: "DATABASE_URL must be a postgres:// URL" })),
  VT_API_KEY: optional(z.string().trim().min(1)),
  VT_API_URL: optional(z.url({ error: "VT_API_URL must be a URL" })),
  SIMULATOR_URL: optional(z.url({ error: "SIMULATOR_URL must be a URL" })),
  VT_REQUESTS_PER_MINUTE: count("VT_REQUESTS_PER_MINUTE"),
  VT_REQUESTS_PER_DAY: count("VT_REQUESTS_PER_DAY"),
  VT_REQUESTS_PER_MONTH: count("VT_REQUESTS_PER_MONTH"),
  VT_REQUEST_TIMEOUT_SECONDS: count("VT_REQUEST_TIMEOUT_SECONDS"),
  // Requests are kept ten minutes (drizzle/0010_budget_claim_function.sql): at least twice any window, whichever
  // process claims with it.
  VT_RATE_WINDOW_SECONDS: optional(
    z.coerce
      .number({ error: "VT_RATE_WINDOW_SECONDS must be a number" })
      .int()
      .positive("VT_RATE_WINDOW_SECONDS must be a positive integer")
      .max(299, "VT_RATE_WINDOW_SECONDS must be at most 299 (requests are kept ten minutes, twice the longest window)"),
  ),
  WORKER_HEARTBEAT_SECONDS: count("WORKER_HEARTBEAT_SECONDS"),
  WORKER_STALE_SECONDS: count("WORKER_STALE_SECONDS"),
  CACHE_TTL_HOURS: count("CACHE_TTL_HOURS"),
  VT_QUOTA_RETRY_SECONDS: count("VT_QUOTA_RETRY_SECONDS"),
  LOOKUP_MAX_ATTEMPTS: optional(
    z.coerce.number().int().min(1, "LOOKUP_MAX_ATTEMPTS must be at least 1").max(100, "LOOKUP_MAX_ATTEMPTS must be at most 100"),
  ),
  WORKER_CONCURRENCY: count("WORKER_CONCURRENCY"),
  PUBLIC_URL: optional(z.url({ error: "PUBLIC_URL must be an absolute URL" })),
  JOB_MAX_HASHES: count("JOB_MAX_HASHES"),
  JOB_RETENTION_DAYS: count("JOB_RETENTION_DAYS"),
  REPORT_RETENTION_DAYS: count("REPORT_RETENTION_DAYS"),
  CLIENT_JOBS_PER_HOUR: limit("CLIENT_JOBS_PER_HOUR"),
  CLIENT_HASHES_PER_DAY: limit("CLIENT_HASHES_PER_DAY"),
  TRUSTED_PROXY_HOPS: optional(
    z.coerce.number({ error: "TRUSTED_PROXY_HOPS must be a number" }).int().min(0).max(10, "TRUSTED_PROXY_HOPS must be at most 10"),
  ),
  API_TOKENS: optional(
    z
      .string()
      .transform((value) => value.split(",").map((token) => token.trim()).filter(Boolean))
      .pipe(
        z
          .array(
            z
              .string()
              .min(16, "every token in API_TOKENS must be at least 16 characters")
              .regex(/^[\x21-\x7e]+$/, "API_TOKENS may hold only printable ASCII without spaces (a header carries them)"),
          )
          .min(1),
      ),
  ),
  APP_SECRET: optional(z.string().trim().min(32, "APP_SECRET must be at least 32 characters (e.g. openssl rand -hex 32)")),
  PORT: count("PORT"),
  EMBEDDED_PG_PORT: count("EMBEDDED_PG_PORT"),
  EMBEDDED_PG_DIR: optional(z.string()),
  SIMULATOR_HOST: optional(z.string()),
  SIMULATOR_PORT: optional(z.coerce.number().int().min(0).max(65535)),
  SIMULATOR_LATENCY_MS: optional(z.coerce.number().int().min(0)),
  SIMULATOR_REQUESTS_PER_MINUTE: optional(z.coerce.number().int().min(0)),
  SIMULATOR_REQUESTS_PER_DAY: optional(z.coerce.number().int().min(0)),
});

export type VirusTotalSource = "virustotal" | "simulator";

function build(raw: Record<string, string | undefined>) {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`).join("\n");
    throw new Error(`Invalid environment:\n${problems}`);
  }
  const e = parsed.data;
  const simulated = e.VT_API_KEY === undefined;
  const simulatorPort = e.SIMULATOR_PORT ?? 4010;
  const heartbeatSeconds = e.WORKER_HEARTBEAT_SECONDS ?? 15;
  const staleSeconds = e.WORKER_STALE_SECONDS ?? 60;
  if (staleSeconds <= heartbeatSeconds) {
    throw new Error("Invalid environment:\n  WORKER_STALE_SECONDS must be longer than WORKER_HEARTBEAT_SECONDS");
  }
  if (!simulated && e.VT_API_URL && !keepsKeyPrivate(e.VT_API_URL)) {
    throw new Error(
      "Invalid environment:\n  VT_API_URL must be https:// when VT_API_KEY is set (plain http only to this machine: localhost, 127.0.0.1, [::1])",
    );
  }
  return {
    databaseUrl: e.DATABASE_URL,
    vt: {
      /** Where reports come from: a real key talks to VT_API_URL, no key talks to the bundled simulator. */
      source: (simulated ? "simulator" : "virustotal") as VirusTotalSource,
      apiKey: e.VT_API_KEY ?? "simulator",
      apiUrl: simulated
        ? (e.SIMULATOR_URL ?? `http://127.0.0.1:${simulatorPort}/api/v3`)
        : (e.VT_API_URL ?? "https://www.virustotal.com/api/v3"),
      requestsPerMinute: e.VT_REQUESTS_PER_MINUTE ?? (simulated ? 60 : 4),
      requestsPerDay: e.VT_REQUESTS_PER_DAY ?? (simulated ? 100_000 : 500),
      requestsPerMonth: e.VT_REQUESTS_PER_MONTH ?? (simulated ? 3_000_000 : 15_500),
      requestTimeoutMs: (e.VT_REQUEST_TIMEOUT_SECONDS ?? 30) * 1000,
      // "Per minute" is a sliding 60-second window; tests shorten it to see several windows in seconds.
      windowSeconds: e.VT_RATE_WINDOW_SECONDS ?? 60,
      quotaRetrySeconds: e.VT_QUOTA_RETRY_SECONDS ?? 86_400,
    },
    cacheTtlHours: e.CACHE_TTL_HOURS ?? 24,
    lookupMaxAttempts: e.LOOKUP_MAX_ATTEMPTS ?? 10,
    workerConcurrency: e.WORKER_CONCURRENCY ?? 4,
    heartbeatSeconds,
    staleSeconds,
    publicUrl: e.PUBLIC_URL?.replace(/\/+$/, ""),
    /** Signs manage tokens; unset, one is generated once and kept in data/app-secret (lib/access/secret.ts). */
    appSecret: e.APP_SECRET,
    /** When set, creating and managing jobs need one of these as a bearer token (lib/access/api-tokens.ts). */
    apiTokens: e.API_TOKENS ?? [],
    /** Distinct hashes one job may hold. */
    jobMaxHashes: e.JOB_MAX_HASHES ?? 1_000_000,
    /** Finished jobs older than this are deleted with their tasks; cached reports no kept task holds, after reportDays. */
    /** What one client (API token, else address) may submit; 0 is no limit (lib/access/client-limits.ts). */
    clientLimits: { jobsPerHour: e.CLIENT_JOBS_PER_HOUR ?? 60, hashesPerDay: e.CLIENT_HASHES_PER_DAY ?? 2_000_000 },
    /** Proxies of our own in front of the web app, each appending to X-Forwarded-For (lib/access/client.ts). */
    trustedProxyHops: e.TRUSTED_PROXY_HOPS ?? 0,
    retention: { jobDays: e.JOB_RETENTION_DAYS ?? 30, reportDays: e.REPORT_RETENTION_DAYS ?? 90 },
    port: e.PORT ?? 3000,
    embeddedPostgres: {
      port: e.EMBEDDED_PG_PORT ?? 54329,
      dir: e.EMBEDDED_PG_DIR ?? "data/postgres",
    },
    simulator: {
      // 127.0.0.1 unless told otherwise: the simulator accepts any key, so it is not for a shared network.
      host: e.SIMULATOR_HOST ?? "127.0.0.1",
      port: simulatorPort,
      latencyMs: e.SIMULATOR_LATENCY_MS ?? 150,
      requestsPerMinute: e.SIMULATOR_REQUESTS_PER_MINUTE ?? 0,
      requestsPerDay: e.SIMULATOR_REQUESTS_PER_DAY ?? 0,
    },
  };
}

/** The key travels in a header: over TLS, or over plain http to this machine only. */
function keepsKeyPrivate(apiUrl: string): boolean {
  const { protocol, hostname } = new URL(apiUrl);
  return protocol === "https:" || (protocol === "http:" && ["localhost", "127.0.0.1", "[::1]"].includes(hostname));
}

export type Env = ReturnType<typeof build>;

let cached: Env | undefined;

/** Parsed on first use, so that importing a module never fails at build time; a bad value fails at start-up. */
export function env(): Env {
  cached ??= build(process.env);
  return cached;
}

/** For tests and scripts that must parse a specific environment without touching the cached one. */
export function parseEnv(raw: Record<string, string | undefined>): Env {
  return build(raw);
}
