import { sql } from "drizzle-orm";
import { bigserial, check, doublePrecision, index, integer, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";

// Shared lookup state. Every worker process, on any host, reads and writes it here, never in memory.
// Each budget is one key's quota: `simulator`, or `vt:<fingerprint of the key>` (never the key itself), so that
// trying the simulator, or an old key, spends nothing of a new key's quota.

/** Requests of the last few minutes: the sliding per-minute window is counted from these rows. */
export const vtRequests = pgTable(
  "vt_requests",
  {
    id: bigserial({ mode: "number" }).primaryKey(),
    budget: text().notNull(),
    at: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("vt_requests_budget_at_idx").on(t.budget, t.at)],
);

/**
 * Counters per budget and UTC period: `requests:day:2026-11-25`, `requests:month:2026-11` (requests spent) and
 * `saved:day:2026-11-25` (lookups answered from our own cache instead).
 */
export const vtUsage = pgTable(
  "vt_usage",
  {
    budget: text().notNull(),
    period: text().notNull(),
    count: integer().notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.budget, t.period] })],
);

/**
 * Each budget's count of the requests in its sliding window, kept by every claim (hashscan_claim_request in
 * drizzle/0010_budget_claim_function.sql): `count` requests after (`newest` − the window), `newest` the budget's
 * newest request. One row per budget, updated in place.
 */
export const vtWindow = pgTable("vt_window", {
  budget: text().primaryKey(),
  newest: timestamp({ withTimezone: true }).notNull(),
  /** The window's length the count is for: a claim with another (a process set up otherwise) counts anew. */
  windowMs: doublePrecision("window_ms").notNull(),
  count: integer().notNull(),
});

export const PAUSE_CAUSES = ["quota", "per_minute", "daily_limit", "monthly_limit", "bad_key"] as const;
export type PauseCause = (typeof PAUSE_CAUSES)[number];

/** At most one row per budget: while `until` is in the future, nothing calls VirusTotal with that key. */
export const vtPause = pgTable(
  "vt_pause",
  {
    budget: text().primaryKey(),
    until: timestamp({ withTimezone: true }).notNull(),
    cause: text().$type<PauseCause>().notNull(),
    reason: text().notNull(),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check("vt_pause_cause_check", sql`cause in ('quota', 'per_minute', 'daily_limit', 'monthly_limit', 'bad_key')`),
  ],
);

/**
 * Per budget: when the last lookup turned away by the full window was told to come back. The next one turned
 * away comes back when the window's next request after that leaves it (lib/budget/slot.ts): one lookup for each
 * slot that frees, at its time.
 */
export const vtWakeCursor = pgTable("vt_wake_cursor", {
  budget: text().primaryKey(),
  at: timestamp({ withTimezone: true }).notNull(),
});

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
