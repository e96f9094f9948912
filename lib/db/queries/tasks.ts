// Every write to tasks, and the reads of a job's tasks. Set-based: a 100,000-hash job is a handful of statements.
// A task's outcome is written only while it is pending, so every update here is idempotent: run twice, same rows.
import { once } from "node:events";
import { finished } from "node:stream/promises";
import { and, eq, sql } from "drizzle-orm";
import type postgres from "postgres";
import type { VirusTotalSource } from "@/lib/env";
import { TASK_COPY_COLUMNS } from "@/lib/hashes/upload";
import type { ReportSummary } from "@/lib/virustotal";
import { driverOf, type Executor, type SqlExecutor } from "../client";
import { tasks } from "../schema";
import { toPgArray } from "./pg-array";
import { NOT_FOUND_TTL_HOURS, reportArguments, type CachePolicy } from "./reports";

/**
 * Set by every write of a task: when, and by which transaction (the change feed's key, lib/db/queries/task-pages).
 * Inserts get both from the columns' defaults.
 */
const touched = { updatedAt: sql`now()`, changedXid: sql`pg_current_xact_id()` };
const TOUCHED = sql`updated_at = now(), changed_xid = pg_current_xact_id()`;

/**
 * A job's tasks, written with COPY from the rows a parse produced (lib/hashes/upload.ts): a block at a time, so a
 * million rows go to the database without ever being one string or a million parameters.
 */
export async function copyTasks(db: Executor, rows: readonly Uint8Array[]) {
  const driver = driverOf(db);
  const query = driver`copy tasks (${driver(TASK_COPY_COLUMNS as unknown as string[])}) from stdin`;
  // postgres.js (3.4) resolves a COPY's query with its stream, and an error the server sends after the last row
  // (a constraint checked at the end, a timeout, a lost connection) then reaches only the query's reject, which it
  // no longer listens to: the stream would never finish. We listen there ourselves (porsager/postgres#1173).
  let failed: (error: unknown) => void = () => {};
  const failure = new Promise<never>((_, reject) => (failed = reject));
  // Raced below; a failure before the first race (the connection lost while the COPY waited to start) is thrown by
  // writable() instead, and must not also end the process as an unhandled rejection.
  failure.catch(() => {});
  const pending = query as unknown as { reject: (error: unknown) => void };
  const reject = pending.reject.bind(pending);
  pending.reject = (error) => {
    failed(error);
    reject(error);
  };
  const copy = await query.writable();
  for (const block of rows) {
    if (!copy.write(block)) await Promise.race([once(copy, "drain"), failure]);
  }
  copy.end();
  await Promise.race([finished(copy), failure]);
}

/** The columns a completed task keeps from the report it was given. */
const SNAPSHOT_FROM_REPORT = sql`
  status = 'completed', error = null, retry_at = null, ${TOUCHED},
  sha256 = r.sha256, md5 = r.md5, sha1 = r.sha1, source = r.source, fortinet = r.fortinet,
  fortinet_category = r.fortinet_category, detected = r.detected, engines = r.engines, scan_date = r.scan_date,
  meaningful_name = r.meaningful_name, file_type = r.file_type`;

/** Completes, on the spot, every pending task of a job whose file has a fresh report under any of its names. */
export async function completeTasksFromCache(db: Executor, jobId: string, policy: CachePolicy) {
  // Sources in order of preference (VirusTotal's own report before the simulator's): a task completed by the
  // first is no longer pending for the second.
  const sources = [...policy.sources].sort((a) => (a === "virustotal" ? -1 : 1));
  for (const source of sources) {
    for (const column of ["md5", "sha1", "sha256"] as const) {
      await db.execute(sql`
        update tasks t set ${SNAPSHOT_FROM_REPORT}
        from reports r
        where t.job_id = ${jobId} and t.status = 'pending' and t.hash_type = ${column}
          and r.${sql.raw(column)} = t.hash and r.source = ${source}
          and r.fetched_at > now() - make_interval(hours => ${policy.ttlHours})`);
    }
  }
}

/** Ends as not found, on the spot, every pending task of a job whose name VirusTotal recently did not know. */
export async function markTasksNotFoundFromCache(db: Executor, jobId: string, sources: readonly VirusTotalSource[]) {
  await db.execute(sql`
    update tasks t
    set status = 'not_found', ${TOUCHED}
    where t.job_id = ${jobId} and t.status = 'pending'
      and exists (
        select 1 from not_found_hashes n
        where n.hash = t.hash and n.checked_at > now() - make_interval(hours => ${NOT_FOUND_TTL_HOURS})
          and n.source = any(${toPgArray(sources)}::text[])
      )`);
}

/** A job's pending tasks (or those among `hashes`) as the queue wants them: `hash` and its `rank` in the job. */
export function pendingLookupsOfJob(jobId: string, hashes?: readonly string[]) {
  const only = hashes ? sql`and hash = any(${toPgArray(hashes)}::text[])` : sql``;
  return sql`
    select hash, (row_number() over (order by position) - 1)::int as rank
    from tasks where job_id = ${jobId} and status = 'pending' ${only}`;
}

/** The hashes of a job's pending tasks, as a query. */
export function pendingHashesOfJob(jobId: string) {
  return sql`select hash from tasks where job_id = ${jobId} and status = 'pending'`;
}

/** The hashes of a job's cancelled tasks, as a query. */
export function cancelledHashesOfJob(jobId: string) {
  return sql`select hash from tasks where job_id = ${jobId} and status = 'cancelled'`;
}

export async function cancelPendingTasks(db: Executor, jobId: string): Promise<number> {
  const rows = await db
    .update(tasks)
    .set({ status: "cancelled", error: null, retryAt: null, ...touched })
    .where(and(eq(tasks.jobId, jobId), eq(tasks.status, "pending")))
    .returning({ position: tasks.position });
  return rows.length;
}

/** The number of a job's pending tasks: what it queues. */
export async function countPendingTasks(db: Executor, jobId: string): Promise<number> {
  const [{ count }] = await db.execute<{ count: number }>(sql`
    select count(*)::int as count from tasks where job_id = ${jobId} and status = 'pending'`);
  return count;
}

/** Whether the job has a failed task: a retry with none has nothing to do. */
export async function hasFailedTasks(db: Executor, jobId: string): Promise<boolean> {
  const rows = await db.execute(sql`select 1 from tasks where job_id = ${jobId} and status = 'failed' limit 1`);
  return rows.length > 0;
}

/** Puts a job's failed tasks back to pending and returns their hashes, for the queue. */
export async function reopenFailedTasks(db: Executor, jobId: string): Promise<string[]> {
  const rows = await db
    .update(tasks)
    .set({ status: "pending", error: null, retryAt: null, ...touched })
    .where(and(eq(tasks.jobId, jobId), eq(tasks.status, "failed")))
    .returning({ hash: tasks.hash });
  return rows.map((row) => row.hash);
}

export async function hasPendingTasks(db: Executor, hash: string): Promise<boolean> {
  const rows = await driverOf(db)`select 1 from tasks where status = 'pending' and hash = ${hash}::text limit 1`;
  return rows.length > 0;
}

/** How a lookup ends the tasks that asked for its name: with the file's report, as not found, or failed. */
export type TaskEnd =
  | { status: "completed"; report: ReportSummary; source: VirusTotalSource }
  | { status: "not_found" }
  | { status: "failed"; reason: string };

/** The names whose tasks an end applies to: a report's file by all three of its names, otherwise the one asked. */
export const namesEnded = (hash: string, end: TaskEnd): string[] =>
  end.status === "completed" ? [end.report.sha256, end.report.md5, end.report.sha1] : [hash];

/** hashscan_finish_tasks's arguments after the names, in its order: the settle's function takes the same after its own. */
export function taskEndArguments(q: postgres.Sql, end: TaskEnd) {
  return q`
    ${end.status}::text, ${end.status === "failed" ? end.reason : null}::text, ${end.status === "completed" ? end.source : null}::text,
    ${reportArguments(q, end.status === "completed" ? end.report : null)}`;
}

/**
 * Ends every pending task, in every job, that asked for `names`: one definition of a task's end, in the database,
 * which a lookup's settle calls too (worker/settle.ts).
 */
export async function finishTasks(db: SqlExecutor, names: readonly string[], end: TaskEnd) {
  const q = driverOf(db);
  await q`select hashscan_finish_tasks(${names as string[]}::text[], ${taskEndArguments(q, end)})`.execute();
}

/** Completes every pending task, in every job, that asked for this file by any of its names, with its result. */
export async function completeTasksForFile(db: SqlExecutor, file: ReportSummary, source: VirusTotalSource) {
  const end: TaskEnd = { status: "completed", report: file, source };
  await finishTasks(db, namesEnded(file.sha256, end), end);
}

export async function markTasksNotFound(db: SqlExecutor, hash: string) {
  await finishTasks(db, [hash], { status: "not_found" });
}

export async function failTasks(db: SqlExecutor, hash: string, reason: string) {
  await finishTasks(db, [hash], { status: "failed", reason });
}

/** Pending tasks show why they wait and until when. */
export async function noteTasksWaiting(db: Executor, hash: string, note: { error: string | null; retryAt: Date }) {
  await db
    .update(tasks)
    .set({ error: note.error, retryAt: note.retryAt, ...touched })
    .where(and(eq(tasks.status, "pending"), eq(tasks.hash, hash)));
}
