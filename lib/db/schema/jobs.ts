import { sql } from "drizzle-orm";
import { check, index, integer, jsonb, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";
import type { VirusTotalSource } from "@/lib/env";
import type { HashType, InvalidLine } from "@/lib/hashes";

export const TASK_STATUSES = ["pending", "completed", "not_found", "failed", "cancelled"] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const jobs = pgTable("jobs", {
  // 16 bytes from a CSPRNG, base64url: the id is the only secret guarding a shared report.
  id: text().primaryKey(),
  name: text(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  total: integer().notNull(),
  duplicates: integer().notNull(),
  // The first MAX_INVALID_LINES_KEPT invalid lines; invalid_count is the uncapped total.
  invalidLines: jsonb("invalid_lines").$type<InvalidLine[]>().notNull(),
  invalidCount: integer("invalid_count").notNull(),
  cancelledAt: timestamp("cancelled_at", { withTimezone: true }),
  // The queue priority of the job's last lookup: lookups at or below it run first, which is its place in the queue.
  lastPriority: integer("last_priority").notNull().default(0),
});

export const tasks = pgTable(
  "tasks",
  {
    jobId: text("job_id")
      .notNull()
      .references(() => jobs.id, { onDelete: "cascade" }),
    // 0-based rank of the hash's first occurrence in the input: the report's order and its keyset cursor.
    position: integer().notNull(),
    line: integer().notNull(),
    hash: text().notNull(),
    hashType: text("hash_type").$type<HashType>().notNull(),
    status: text().$type<TaskStatus>().notNull().default("pending"),
    error: text(),
    retryAt: timestamp("retry_at", { withTimezone: true }),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    // The result a completed task was given, kept with it: a later report of the file (a rescan, or another
    // source) never rewrites a finished job, and reads, filters and sorts need no join.
    sha256: text(),
    md5: text(),
    sha1: text(),
    source: text().$type<VirusTotalSource>(),
    fortinet: text(),
    fortinetCategory: text("fortinet_category"),
    detected: integer(),
    engines: integer(),
    scanDate: timestamp("scan_date", { withTimezone: true }),
    meaningfulName: text("meaningful_name"),
    fileType: text("file_type"),
  },
  (t) => [
    primaryKey({ columns: [t.jobId, t.position] }),
    // The worker completes every pending task of a file, in every job, by any of its names.
    index("tasks_pending_hash_idx").on(t.hash).where(sql`status = 'pending'`),
    index("tasks_job_status_idx").on(t.jobId, t.status),
    check("tasks_status_check", sql`status in ('pending', 'completed', 'not_found', 'failed', 'cancelled')`),
    check("tasks_hash_type_check", sql`hash_type in ('md5', 'sha1', 'sha256')`),
    check("tasks_source_check", sql`source in ('virustotal', 'simulator')`),
  ],
);

export type Job = typeof jobs.$inferSelect;
export type Task = typeof tasks.$inferSelect;
