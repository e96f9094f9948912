// What is deleted as it ages (worker/tasks/retention.ts runs it daily): finished jobs with their tasks, cached
// reports that no kept task holds, and old not-found answers. Each statement deletes a bounded batch found through
// an index, so no transaction holds a million rows and no batch scans a whole table.
import { sql } from "drizzle-orm";
import type { Db, Executor } from "../client";
import { findJobForUpdate } from "./jobs";

/** Jobs created before the cutoff with nothing pending (finished or cancelled), not yet expired, oldest first. */
export async function listExpiredJobs(db: Executor, days: number, limit: number): Promise<string[]> {
  const rows = await db.execute<{ id: string }>(sql`
    select j.id from jobs j
    where j.created_at < now() - make_interval(days => ${days}) and j.expired_at is null
      and not exists (select 1 from tasks t where t.job_id = j.id and t.status = 'pending')
    order by j.created_at
    limit ${limit}`);
  return rows.map((row) => row.id);
}

/**
 * Marks a job expired, under its row lock, if it still has nothing pending: from then on every reader and manager
 * finds no such job (lib/db/queries/jobs.ts). A retry that reopened tasks first (it holds the same lock) keeps it.
 */
export async function expireJob(db: Db, jobId: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    if (!(await findJobForUpdate(tx, jobId))) return false;
    // A statement of its own, after the lock: it sees what a retry that held the lock committed.
    const pending = await tx.execute(sql`select 1 from tasks where job_id = ${jobId} and status = 'pending' limit 1`);
    if (pending.length > 0) return false;
    await tx.execute(sql`update jobs set expired_at = now() where id = ${jobId}`);
    return true;
  });
}

/** Expired jobs whose rows are still being deleted (this run's, or one a crash interrupted), with their size. */
export async function listExpiringJobs(db: Executor, limit: number): Promise<{ id: string; total: number }[]> {
  return db.execute<{ id: string; total: number }>(sql`
    select id, total from jobs where expired_at is not null order by expired_at limit ${limit}`);
}

/** Deletes an expired job's tasks at positions [from, from + count): one range of its primary key. */
export async function deleteExpiredTasks(db: Executor, jobId: string, from: number, count: number): Promise<number> {
  const rows = await db.execute(sql`
    delete from tasks t using jobs j
    where j.id = ${jobId} and j.expired_at is not null
      and t.job_id = ${jobId} and t.position >= ${from} and t.position < ${from + count}
    returning 1`);
  return rows.length;
}

/** Deletes an expired job (its counts, and any task left, go with it by cascade). */
export async function deleteExpiredJob(db: Executor, jobId: string): Promise<boolean> {
  const rows = await db.execute(sql`delete from jobs where id = ${jobId} and expired_at is not null returning id`);
  return rows.length === 1;
}

export interface ReportKey {
  fetchedAt: string;
  sha256: string;
  source: string;
}

/**
 * Looks at the next `batch` reports fetched before the cutoff, in (fetched_at, sha256, source) order after `after`,
 * and deletes those no task cites. Returns how many it deleted and the last one it looked at (null: none left), so
 * a walk passes each cited report once.
 */
export async function deleteStaleReports(
  db: Executor,
  days: number,
  batch: number,
  after: ReportKey | null,
): Promise<{ deleted: number; last: ReportKey | null }> {
  const from = after ? sql`and (r.fetched_at, r.sha256, r.source) > (${after.fetchedAt}::timestamptz, ${after.sha256}, ${after.source})` : sql``;
  const [row] = await db.execute<{ deleted: number; fetched_at: string | null; sha256: string | null; source: string | null }>(sql`
    with candidates as (
      select r.fetched_at, r.sha256, r.source from reports r
      where r.fetched_at < now() - make_interval(days => ${days}) ${from}
      order by r.fetched_at, r.sha256, r.source
      limit ${batch}
    ), deleted as (
      delete from reports r using candidates c
      -- fetched_at again: re-checked on a report fetched anew since this statement began, which is kept.
      where r.sha256 = c.sha256 and r.source = c.source and r.fetched_at < now() - make_interval(days => ${days})
        and not exists (select 1 from tasks t where t.sha256 = c.sha256 and t.source = c.source)
      returning 1
    ), last as (
      select fetched_at, sha256, source from candidates order by fetched_at desc, sha256 desc, source desc limit 1
    )
    select (select count(*)::int from deleted) as deleted, last.fetched_at::text as fetched_at, last.sha256, last.source
    from (select 1) one left join last on true`);
  const last = row.sha256 === null ? null : { fetchedAt: row.fetched_at!, sha256: row.sha256, source: row.source! };
  return { deleted: row.deleted, last };
}

/** Not-found answers are trusted for an hour; older than the report retention, they are only history. */
export async function deleteStaleNotFound(db: Executor, days: number, batch: number): Promise<number> {
  const rows = await db.execute(sql`
    delete from not_found_hashes
    where ctid = any(array(
      -- Oldest first, through the index: a batch never rescans what earlier batches deleted.
      select ctid from not_found_hashes where checked_at < now() - make_interval(days => ${days}) order by checked_at limit ${batch}))
      -- Re-checked on an answer renewed since this statement began, which is kept.
      and checked_at < now() - make_interval(days => ${days})
    returning 1`);
  return rows.length;
}
