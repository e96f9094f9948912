import { sql } from "drizzle-orm";
import { bigserial, check, index, integer, pgTable, smallint, text, timestamp } from "drizzle-orm/pg-core";

// Shared lookup state. Every worker process, on any host, reads and writes it here, never in memory.

/** Requests of the last few minutes: the sliding per-minute window is counted from these rows. */
export const vtRequests = pgTable(
  "vt_requests",
  {
    id: bigserial({ mode: "number" }).primaryKey(),
    at: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("vt_requests_at_idx").on(t.at)],
);

/**
 * Counters per UTC period: `requests:day:2026-11-25`, `requests:month:2026-11` (VirusTotal requests spent) and
 * `saved:day:2026-11-25` (lookups answered from our own cache instead).
 */
export const vtUsage = pgTable("vt_usage", {
  period: text().primaryKey(),
  count: integer().notNull().default(0),
});

export const PAUSE_CAUSES = ["quota", "per_minute", "daily_limit", "monthly_limit", "bad_key"] as const;
export type PauseCause = (typeof PAUSE_CAUSES)[number];

/** At most one row: while `until` is in the future, nothing calls VirusTotal. */
export const vtPause = pgTable(
  "vt_pause",
  {
    id: smallint().primaryKey().default(1),
    until: timestamp({ withTimezone: true }).notNull(),
    cause: text().$type<PauseCause>().notNull(),
    reason: text().notNull(),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check("vt_pause_singleton", sql`id = 1`),
    check("vt_pause_cause_check", sql`cause in ('quota', 'per_minute', 'daily_limit', 'monthly_limit', 'bad_key')`),
  ],
);

/**
 * One row per name being requested right now: graphile-worker may run two jobs for one key (a job added while its
 * namesake runs), and this keeps them from spending two requests. A lease outlives a crashed holder only briefly.
 */
export const lookupLeases = pgTable("lookup_leases", {
  hash: text().primaryKey(),
  holder: text().notNull(),
  expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
});

/** Heartbeats of graphile-worker pools (jobs are locked by the pool's id); a silent pool's jobs are released. */
export const workerPools = pgTable("worker_pools", {
  id: text().primaryKey(),
  hostname: text().notNull(),
  pid: integer().notNull(),
  concurrency: integer().notNull(),
  startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
  lastBeatAt: timestamp("last_beat_at", { withTimezone: true }).notNull().defaultNow(),
});

export type VtPause = typeof vtPause.$inferSelect;
export type WorkerPool = typeof workerPools.$inferSelect;
