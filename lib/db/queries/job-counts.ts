// A job's counts by status and its change version, as kept by the tasks triggers (drizzle/0002): a base row in
// job_counts plus the delta rows appended since the worker last folded them in. Reading costs the same at any job
// size: one row and the few deltas of the last seconds.
import { sql } from "drizzle-orm";
import type { Executor } from "../client";

export interface JobCounts {
  pending: number;
  completed: number;
  notFound: number;
  failed: number;
  cancelled: number;
  /** How many times the job's tasks were written: it grows with every change, so it versions the report. */
  changes: number;
}

export async function readJobCounts(db: Executor, jobId: string): Promise<JobCounts> {
  const [row] = await db.execute<Record<"pending" | "completed" | "not_found" | "failed" | "cancelled" | "changes", string>>(sql`
    select
      coalesce(b.pending, 0) + coalesce(d.pending, 0) as pending,
      coalesce(b.completed, 0) + coalesce(d.completed, 0) as completed,
      coalesce(b.not_found, 0) + coalesce(d.not_found, 0) as not_found,
      coalesce(b.failed, 0) + coalesce(d.failed, 0) as failed,
      coalesce(b.cancelled, 0) + coalesce(d.cancelled, 0) as cancelled,
      coalesce(b.changes, 0) + coalesce(d.changes, 0) as changes
    from (select 1) one
    left join job_counts b on b.job_id = ${jobId}
    left join (
      select sum(pending) as pending, sum(completed) as completed, sum(not_found) as not_found,
        sum(failed) as failed, sum(cancelled) as cancelled, sum(changes) as changes
      from job_count_deltas where job_id = ${jobId}
    ) d on true`);
  return {
    pending: Number(row.pending),
    completed: Number(row.completed),
    notFound: Number(row.not_found),
    failed: Number(row.failed),
    cancelled: Number(row.cancelled),
    changes: Number(row.changes),
  };
}

/**
 * Folds up to `batch` of the oldest deltas into their jobs' base rows, in one statement (a reader sees the deltas
 * or their sum, never both). Deltas are taken with SKIP LOCKED and bases updated in job order, so two workers
 * folding at once neither count a delta twice nor deadlock. Returns the deltas folded.
 */
export async function foldCountDeltas(db: Executor, batch = 10_000): Promise<number> {
  const [row] = await db.execute<{ folded: number }>(sql`
    with taken as (
      delete from job_count_deltas
      where id in (select id from job_count_deltas order by id limit ${batch} for update skip locked)
      returning *
    ),
    sums as (
      select job_id, sum(pending)::int as pending, sum(completed)::int as completed, sum(not_found)::int as not_found,
        sum(failed)::int as failed, sum(cancelled)::int as cancelled, sum(changes)::bigint as changes, count(*)::int as n
      from taken group by job_id
    ),
    folded as (
      insert into job_counts (job_id, pending, completed, not_found, failed, cancelled, changes)
      select job_id, pending, completed, not_found, failed, cancelled, changes from sums order by job_id
      on conflict (job_id) do update set
        pending = job_counts.pending + excluded.pending,
        completed = job_counts.completed + excluded.completed,
        not_found = job_counts.not_found + excluded.not_found,
        failed = job_counts.failed + excluded.failed,
        cancelled = job_counts.cancelled + excluded.cancelled,
        changes = job_counts.changes + excluded.changes
    )
    select coalesce(sum(n), 0)::int as folded from sums`);
  return row.folded;
}
