// Writing and reading jobs and their tasks. Set-based throughout: a 100,000-hash job is a handful of statements.
import { and, asc, count, eq, gt, sql } from "drizzle-orm";
import type { InvalidLine, ParsedHash } from "@/lib/hashes";
import type { VirusTotalSource } from "@/lib/env";
import type { Executor } from "../client";
import { jobs, reports, tasks, type TaskStatus } from "../schema";

export interface NewJob {
  id: string;
  name: string | null;
  total: number;
  duplicates: number;
  invalidLines: InvalidLine[];
  invalidCount: number;
}

export async function insertJob(db: Executor, job: NewJob) {
  await db.insert(jobs).values(job);
}

/** One INSERT … SELECT FROM unnest(): three array parameters, whatever the number of hashes. */
export async function insertTasks(db: Executor, jobId: string, hashes: readonly ParsedHash[]) {
  await db.execute(sql`
    insert into tasks (job_id, position, line, hash, hash_type)
    select ${jobId}, ordinality - 1, line, hash, hash_type
    from unnest(
      ${toPgArray(hashes.map((h) => h.line))}::int[],
      ${toPgArray(hashes.map((h) => h.hash))}::text[],
      ${toPgArray(hashes.map((h) => h.type))}::text[]
    ) with ordinality as input(line, hash, hash_type)`);
}

/** A Postgres array literal sent as one parameter (Drizzle would expand a JS array into one per element).
 * Only for plain tokens: hex digests, numbers and enum names need no quoting. */
function toPgArray(values: readonly (string | number)[]): string {
  return `{${values.join(",")}}`;
}

export interface CachePolicy {
  ttlHours: number;
  sources: readonly VirusTotalSource[];
}

/** A "not found" answer is remembered this long: asking again so soon would spend a request for nothing. */
export const NOT_FOUND_TTL_HOURS = 1;

/** Completes, on the spot, every pending task of a job whose file has a fresh report under any of its names. */
export async function completeTasksFromCache(db: Executor, jobId: string, policy: CachePolicy) {
  const sources = toPgArray(policy.sources);
  for (const column of ["md5", "sha1", "sha256"] as const) {
    await db.execute(sql`
      update tasks t
      set status = 'completed', report_sha256 = r.sha256, updated_at = now()
      from reports r
      where t.job_id = ${jobId} and t.status = 'pending' and t.hash_type = ${column}
        and r.${sql.raw(column)} = t.hash
        and r.fetched_at > now() - make_interval(hours => ${policy.ttlHours})
        and r.source = any(${sources}::text[])`);
  }
}

/** Ends as not found, on the spot, every pending task of a job whose name VirusTotal recently did not know. */
export async function markTasksNotFoundFromCache(db: Executor, jobId: string, sources: readonly VirusTotalSource[]) {
  await db.execute(sql`
    update tasks t
    set status = 'not_found', updated_at = now()
    from not_found_hashes n
    where t.job_id = ${jobId} and t.status = 'pending' and n.hash = t.hash
      and n.checked_at > now() - make_interval(hours => ${NOT_FOUND_TTL_HOURS})
      and n.source = any(${toPgArray(sources)}::text[])`);
}

/**
 * Queues one lookup per pending task (or per pending task among `hashes`). Call it inside the transaction that
 * wrote the tasks: the queue rows then appear with them, or not at all.
 *
 * Priority is the task's rank within its job, so lookups of several jobs interleave instead of queueing behind
 * each other (graphile-worker runs the lowest number first). A hash another job has already queued keeps that
 * queue job (its run time, its attempt count, its payload), locked until we commit so it cannot finish unseen by
 * our tasks, and is moved up when our rank is better. Only a running one gets a new job beside it (add_jobs moves
 * the key), which finds the answer in the cache.
 */
export async function enqueueLookups(
  db: Executor,
  jobId: string,
  maxAttempts: number,
  hashes?: readonly string[],
): Promise<number> {
  const only = hashes ? sql`and hash = any(${toPgArray(hashes)}::text[])` : sql``;
  const wanted = sql`
    select hash, 'lookup:' || hash as key, least(row_number() over (order by position) - 1, 32767)::int as priority
    from tasks where job_id = ${jobId} and status = 'pending' ${only}`;

  // One statement locks the queued, not running lookups we share (a worker skips locked rows, so none can finish
  // before our tasks are visible) and adds the rest; add_jobs handles one a concurrent job adds meanwhile.
  const [counts] = await db.execute<{ kept: number; added: number }>(sql`
    with wanted as (${wanted}),
    kept as (
      select j.key from graphile_worker._private_jobs j join wanted w on j.key = w.key
      where j.locked_at is null
      for update of j
    )
    select
      (select count(*)::int from kept) as kept,
      (select count(*)::int from graphile_worker.add_jobs(
        array(
          select row(
            'lookup', json_build_object('hash', w.hash), null, null, ${maxAttempts}::smallint, w.key,
            w.priority::smallint, array['vt']
          )::graphile_worker.job_spec
          from wanted w
          where w.key not in (select key from kept)
          order by w.priority
        ),
        true
      )) as added`);
  // The kept ones move up where our rank is better (they are ours until commit).
  await db.execute(sql`
    select count(*)
    from graphile_worker._private_jobs j
    join (${wanted}) w on j.key = w.key and w.priority < j.priority and j.locked_at is null
    cross join lateral graphile_worker.reschedule_jobs(array[j.id], priority := w.priority)`);
  const total = counts.kept + counts.added;
  if (total > 0) {
    await db.execute(sql`
      update jobs set last_priority = (select coalesce(max(priority), 0) from (${wanted}) w) where id = ${jobId}`);
  }
  return total;
}

/** Ends a job's pending tasks as cancelled and removes the lookups that no other job's pending task needs. */
export async function cancelJob(db: Executor, jobId: string): Promise<number> {
  await db.update(jobs).set({ cancelledAt: sql`coalesce(${jobs.cancelledAt}, now())` }).where(eq(jobs.id, jobId));
  const rows = await db.execute<{ cancelled: number }>(sql`
    with cancelled as (
      update tasks set status = 'cancelled', retry_at = null, updated_at = now()
      where job_id = ${jobId} and status = 'pending'
      returning hash
    ),
    removed as (
      select graphile_worker.remove_job('lookup:' || c.hash)
      from cancelled c
      where not exists (select 1 from tasks t where t.status = 'pending' and t.hash = c.hash and t.job_id <> ${jobId})
    )
    select (select count(*)::int from cancelled) as cancelled, (select count(*) from removed) as removed`);
  return rows[0].cancelled;
}

/** Puts a job's failed tasks back to pending and returns their hashes, for enqueueLookups. */
export async function reopenFailedTasks(db: Executor, jobId: string): Promise<string[]> {
  const rows = await db
    .update(tasks)
    .set({ status: "pending", error: null, retryAt: null, updatedAt: sql`now()` })
    .where(and(eq(tasks.jobId, jobId), eq(tasks.status, "failed")))
    .returning({ hash: tasks.hash });
  return rows.map((row) => row.hash);
}

/** How many queued lookups run no later than the job's last one: its place in the queue. */
export async function countLookupsAhead(db: Executor, lastPriority: number): Promise<number> {
  const [row] = await db.execute<{ n: number }>(sql`
    select count(*)::int as n from graphile_worker._private_jobs where priority <= ${lastPriority}`);
  return row.n;
}

export async function countQueuedLookups(db: Executor): Promise<number> {
  const [row] = await db.execute<{ n: number }>(sql`select count(*)::int as n from graphile_worker._private_jobs`);
  return row.n;
}

export async function findJob(db: Executor, id: string) {
  const [job] = await db.select().from(jobs).where(eq(jobs.id, id));
  return job ?? null;
}

export type StatusCounts = Record<TaskStatus, number>;

export async function countTasksByStatus(db: Executor, jobId: string): Promise<StatusCounts> {
  const rows = await db
    .select({ status: tasks.status, n: count() })
    .from(tasks)
    .where(eq(tasks.jobId, jobId))
    .groupBy(tasks.status);
  const counts: StatusCounts = { pending: 0, completed: 0, not_found: 0, failed: 0, cancelled: 0 };
  for (const row of rows) counts[row.status] = row.n;
  return counts;
}

/** One page of a job's tasks in input order, joined with their reports; keyset pagination on position. */
export async function listTaskResults(db: Executor, jobId: string, page: { afterPosition: number; limit: number }) {
  return db
    .select({
      position: tasks.position,
      hash: tasks.hash,
      hashType: tasks.hashType,
      status: tasks.status,
      error: tasks.error,
      retryAt: tasks.retryAt,
      sha256: reports.sha256,
      fortinet: reports.fortinet,
      fortinetCategory: reports.fortinetCategory,
      detected: reports.detected,
      engines: reports.engines,
      scanDate: reports.scanDate,
      source: reports.source,
    })
    .from(tasks)
    .leftJoin(reports, eq(reports.sha256, tasks.reportSha256))
    .where(and(eq(tasks.jobId, jobId), gt(tasks.position, page.afterPosition)))
    .orderBy(asc(tasks.position))
    .limit(page.limit);
}

export type TaskResultRow = Awaited<ReturnType<typeof listTaskResults>>[number];
