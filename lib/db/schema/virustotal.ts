import { sql } from "drizzle-orm";
import { bigserial, check, index, integer, pgTable, smallint, text, timestamp } from "drizzle-orm/pg-core";

// Shared VirusTotal budget state. Every worker process, on any host, reads and writes it here, never in memory.

/** Requests of the last few minutes: the sliding per-minute window is counted from these rows. */
export const vtRequests = pgTable(
  "vt_requests",
  {
    id: bigserial({ mode: "number" }).primaryKey(),
    at: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("vt_requests_at_idx").on(t.at)],
);

/** Requests per UTC day ('day:2026-11-25') and per UTC month ('month:2026-11'). */
export const vtUsage = pgTable("vt_usage", {
  period: text().primaryKey(),
  requests: integer().notNull().default(0),
});

/** At most one row: while `until` is in the future, nothing calls VirusTotal. */
export const vtPause = pgTable(
  "vt_pause",
  {
    id: smallint().primaryKey().default(1),
    until: timestamp({ withTimezone: true }).notNull(),
    reason: text().notNull(),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check("vt_pause_singleton", sql`id = 1`)],
);

export type VtPause = typeof vtPause.$inferSelect;
