import { sql } from "drizzle-orm";
import { bigint, check, customType, index, integer, jsonb, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";
import type { VirusTotalSource } from "@/lib/env";
import type { HashType, InvalidLine } from "@/lib/hashes";

export const TASK_STATUSES = ["pending", "completed", "not_found", "failed", "cancelled"] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const jobs = pgTable(
  "jobs",
  {
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
    // Set by retention when it starts deleting the job: from then on the job is gone for every reader and manager,
    // while its tasks are deleted in batches (worker/tasks/retention.ts).
    expiredAt: timestamp("expired_at", { withTimezone: true }),
    // The queue priority of the job's last lookup: lookups at or below it run first, which is its place in the queue.
    lastPriority: integer("last_priority").notNull().default(0),
    // Who submitted it (lib/access/client.ts): what the per-client limits count, and whose share of the queue it takes.
    clientId: text("client_id"),
    // The rank of the job's last lookup within its client's queued work (last_priority is it, capped to a smallint):
    // the client's next job ranks after it while this one still has lookups pending.
    lastRank: integer("last_rank").notNull().default(0),
  },
  (t) => [index("jobs_client_created_idx").on(t.clientId, t.createdAt)],
);

/** A transaction id (PostgreSQL's xid8): 64 bits, never wraps. Read and compared as text/bigint in SQL only. */
const xid8 = customType<{ data: string; driverData: string }>({ dataType: () => "xid8" });

export const tasks = pgTable(
  "tasks",
  {
    // Its job, checked by a trigger once per statement rather than by a foreign key's check per row (drizzle/0009):
    // that check was half the cost of writing a job's tasks. Deleting a job deletes its tasks, as a cascade would.
    jobId: text("job_id").notNull(),
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
    // The transaction that last wrote the row: a poller's change cursor is the oldest transaction still running
    // when it read, so a row committed late (by a transaction older than the read) is never skipped.
    changedXid: xid8("changed_xid").notNull().default(sql`pg_current_xact_id()`),
  },
  (t) => [
    primaryKey({ columns: [t.jobId, t.position] }),
    // The worker completes every pending task of a file, in every job, by any of its names.
    index("tasks_pending_hash_idx").on(t.hash).where(sql`status = 'pending'`),
    // Keyset pages of a report: by position within a status, within the detected files, and by the sort keys.
    index("tasks_job_status_position_idx").on(t.jobId, t.status, t.position),
    index("tasks_fortinet_detected_idx").on(t.jobId, t.position).where(sql`fortinet is not null`),
    index("tasks_any_detected_idx").on(t.jobId, t.position).where(sql`detected > 0`),
    // Completed tasks only: the others have no value to sort by, and every index fewer makes writing a job cheaper
    // (lib/db/queries/task-pages.ts reads the others by status and position).
    index("tasks_detections_idx").on(t.jobId, sql`coalesce(${t.detected}, -1)`, t.position).where(sql`status = 'completed'`),
    index("tasks_scan_date_idx").on(t.jobId, sql`coalesce(${t.scanDate}, '-infinity'::timestamptz)`, t.position).where(sql`status = 'completed'`),
    index("tasks_hash_prefix_idx").on(t.jobId, sql`${t.hash} collate "C"`),
    index("tasks_changes_idx").on(t.jobId, t.changedXid, t.position),
    // Which cached reports a kept task still holds (retention keeps those): written when a task completes, never at insert.
    index("tasks_report_idx").on(t.sha256, t.source).where(sql`sha256 is not null`),
    check("tasks_status_check", sql`status in ('pending', 'completed', 'not_found', 'failed', 'cancelled')`),
    check("tasks_hash_type_check", sql`hash_type in ('md5', 'sha1', 'sha256')`),
    check("tasks_source_check", sql`source in ('virustotal', 'simulator')`),
    // Only a completed task has a result, and every completed one a detection count: sorts rely on it (a task of
    // another status has the lowest key, and pages by position alone), and so do filters on a result.
    check(
      "tasks_result_only_when_completed_check",
      sql`case when status = 'completed' then detected is not null else detected is null and scan_date is null and fortinet is null end`,
    ),
  ],
);

/**
 * A job's task counts by status and its change version (rows written so far), kept as tasks change: a trigger on
 * tasks appends one delta row per job and statement (append-only, so concurrent lookups never wait on or deadlock
 * over a job's counter), and the worker folds deltas into job_counts every few seconds. Count = base + deltas.
 */
const countColumns = () => ({
  pending: integer().notNull().default(0),
  completed: integer().notNull().default(0),
  notFound: integer("not_found").notNull().default(0),
  failed: integer().notNull().default(0),
  cancelled: integer().notNull().default(0),
  changes: bigint({ mode: "number" }).notNull().default(0),
});

export const jobCounts = pgTable("job_counts", {
  jobId: text("job_id")
    .primaryKey()
    .references(() => jobs.id, { onDelete: "cascade" }),
  ...countColumns(),
});

export const jobCountDeltas = pgTable(
  "job_count_deltas",
  {
    id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    jobId: text("job_id")
      .notNull()
      .references(() => jobs.id, { onDelete: "cascade" }),
    ...countColumns(),
  },
  (t) => [index("job_count_deltas_job_idx").on(t.jobId)],
);

export type Job = typeof jobs.$inferSelect;
export type Task = typeof tasks.$inferSelect;

/**
 * An `Idempotency-Key` a client sent with a job it created (POST /api/jobs): the same key from the same client within
 * IDEMPOTENCY_WINDOW_HOURS answers that job again, or 409 for another body. The answer itself is not stored: it is
 * made again from the job's row, the same every time.
 */
export const idempotencyKeys = pgTable(
  "idempotency_keys",
  {
    clientId: text("client_id").notNull(),
    key: text().notNull(),
    // SHA-256 of what was asked: the body (a multipart body's file), and the name given beside it.
    requestDigest: text("request_digest").notNull(),
    jobId: text("job_id")
      .notNull()
      .references(() => jobs.id, { onDelete: "cascade" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.clientId, t.key] }),
    index("idempotency_keys_created_idx").on(t.createdAt),
    // Retention deletes a job's keys by cascade: without it, a scan of every key for each job deleted.
    index("idempotency_keys_job_idx").on(t.jobId),
  ],
);
