// What is deleted as it ages (worker/tasks/retention.ts runs it daily): finished jobs with their tasks, cached
// reports that no kept task holds, and old not-found answers. Each statement deletes a bounded batch, so no
// transaction holds a million rows and the queue and the report pages never wait long on one.
import { sql } from "drizzle-orm";
import type { Executor } from "../client";

/** Jobs created before the cutoff with nothing pending (finished or cancelled), oldest first. */
export async function listExpiredJobs(db: Executor, days: number, limit: number): Promise<string[]> {
  const rows = await db.execute<{ id: string }>(sql`
    select j.id from jobs j
    where j.created_at < now() - make_interval(days => ${days})
      and not exists (select 1 from tasks t where t.job_id = j.id and t.status = 'pending')
    order by j.created_at
    limit ${limit}`);
  return rows.map((row) => row.id);
}

/**
 * Deletes up to `batch` of a job's tasks, then the job itself once it has none (its counts go with it, by
 * cascade). Returns the tasks deleted; call it until the job is gone. A job's pending tasks are never deleted: one
 * that became pending again (a retry) since it was listed keeps the job.
 */
export async function deleteExpiredJobBatch(db: Executor, jobId: string, batch: number): Promise<{ tasks: number; jobDeleted: boolean }> {
  const [{ tasks }] = await db.execute<{ tasks: number }>(sql`
    with doomed as (
      select position from tasks
      where job_id = ${jobId} and not exists (select 1 from tasks p where p.job_id = ${jobId} and p.status = 'pending')
      order by position
      limit ${batch}
    ), deleted as (
      -- Re-checked on a row changed since this statement began: one a retry made pending is kept.
      delete from tasks t using doomed d
      where t.job_id = ${jobId} and t.position = d.position and t.status <> 'pending'
      returning 1
    )
    select count(*)::int as tasks from deleted`);
  if (tasks > 0) return { tasks, jobDeleted: false };
  const gone = await db.execute(sql`
    delete from jobs j where j.id = ${jobId} and not exists (select 1 from tasks t where t.job_id = j.id) returning j.id`);
  return { tasks: 0, jobDeleted: gone.length === 1 };
}

/** Deletes up to `batch` reports fetched before the cutoff that no task holds (a kept job's results cite them). */
export async function deleteStaleReports(db: Executor, days: number, batch: number): Promise<number> {
  const rows = await db.execute(sql`
    delete from reports r
    using (
      select sha256, source from reports o
      where o.fetched_at < now() - make_interval(days => ${days})
        and not exists (select 1 from tasks t where t.sha256 = o.sha256 and t.source = o.source)
      limit ${batch}
    ) stale
    -- Re-checked on a row changed since this statement began: a report fetched again just now is kept.
    where r.sha256 = stale.sha256 and r.source = stale.source and r.fetched_at < now() - make_interval(days => ${days})
    returning 1`);
  return rows.length;
}

/** Not-found answers are trusted for an hour; older than the report retention, they are only history. */
export async function deleteStaleNotFound(db: Executor, days: number, batch: number): Promise<number> {
  const rows = await db.execute(sql`
    delete from not_found_hashes n
    using (
      select hash, source from not_found_hashes where checked_at < now() - make_interval(days => ${days}) limit ${batch}
    ) stale
    where n.hash = stale.hash and n.source = stale.source and n.checked_at < now() - make_interval(days => ${days})
    returning 1`);
  return rows.length;
}
