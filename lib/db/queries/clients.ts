// What one client (lib/access/client.ts) has submitted lately, and its place in the queue, read from its jobs.
import { sql, type SQL } from "drizzle-orm";
import type { Executor } from "../client";
import { interleaveLine, lockKeySpace, MAX_PRIORITY, queueHead, type Line } from "./queue";

/** One client's submissions are checked and written one at a time: two at once could each pass the limits alone. */
export async function lockClient(db: Executor, clientId: string): Promise<void> {
  // The two-key form: a lock space apart from the one-key locks (the key space's), so no client id can collide with them.
  await db.execute(sql`select pg_advisory_xact_lock(hashtext('hashscan:client'), hashtext(${clientId}))`);
}

export interface ClientUsage {
  jobsLastHour: number;
  /** Seconds until one of those jobs leaves the hour's window, making room under `jobsPerHour`; null if under it. */
  jobsRoomInSeconds: number | null;
  hashesLastDay: number;
  /** Seconds until enough of the day's hashes leave its window for `hashes` more; null if they fit now (or never). */
  hashesRoomInSeconds: number | null;
}

/**
 * The client's jobs in the last hour and hashes in the last 24 hours (sliding windows over its jobs, cancelled ones
 * included: they were submitted), and when there will be room for one more job of `hashes` under the limits.
 */
export async function clientUsage(
  db: Executor,
  clientId: string,
  hashes: number,
  limits: { jobsPerHour: number; hashesPerDay: number },
): Promise<ClientUsage> {
  const [row] = await db.execute<{
    jobs_last_hour: number;
    jobs_room_at: number | null;
    hashes_last_day: string;
    hashes_room_at: number | null;
  }>(sql`
    with recent as (
      select created_at, total, sum(total) over (order by created_at, id) as running
      from jobs where client_id = ${clientId} and created_at > now() - interval '1 day'
    ),
    used as (select coalesce(sum(total), 0) as hashes from recent)
    select
      (select count(*)::int from recent where created_at > now() - interval '1 hour') as jobs_last_hour,
      -- The limit's newest job: once it is an hour old, fewer than the limit are left in the window.
      (select ceil(extract(epoch from created_at + interval '1 hour' - now()))::int from recent
        where created_at > now() - interval '1 hour'
        order by created_at desc offset greatest(${limits.jobsPerHour} - 1, 0) limit 1) as jobs_room_at,
      (select hashes from used)::text as hashes_last_day,
      -- The oldest job whose leaving, with all older ones, frees enough of the day's allowance.
      (select ceil(extract(epoch from min(created_at) + interval '1 day' - now()))::int from recent
        where running >= (select hashes from used) + ${hashes} - ${limits.hashesPerDay}) as hashes_room_at`);
  const hashesLastDay = Number(row.hashes_last_day);
  const jobsOver = limits.jobsPerHour > 0 && row.jobs_last_hour >= limits.jobsPerHour;
  const hashesOver = limits.hashesPerDay > 0 && hashesLastDay + hashes > limits.hashesPerDay && hashes <= limits.hashesPerDay;
  return {
    jobsLastHour: row.jobs_last_hour,
    jobsRoomInSeconds: jobsOver ? Math.max(1, row.jobs_room_at ?? 1) : null,
    hashesLastDay,
    hashesRoomInSeconds: hashesOver ? Math.max(1, row.hashes_room_at ?? 1) : null,
  };
}

/**
 * Where the client's next job starts in its line when it cannot run beside the client's queued rows: after the last
 * rank of its jobs that still wait for lookups (`except` a job being created), or at 0 when none does.
 */
export async function clientRankOffset(db: Executor, clientId: string, except?: string): Promise<number> {
  const [row] = await db.execute<{ offset: number }>(sql`
    select coalesce(max(j.last_rank) + 1, 0)::int as offset from jobs j
    where j.client_id = ${clientId} and j.cancelled_at is null and j.expired_at is null
      and ${except === undefined ? sql`true` : sql`j.id <> ${except}`}
      and exists (select 1 from tasks t where t.job_id = j.id and t.status = 'pending')`);
  return row.offset;
}

/**
 * A place in its client's line for `count` lookups of a job (queue.ts, interleaveLine): beside the client's queued
 * lookups, which move apart to make room (and their jobs' places in the queue with them). A client's jobs share one
 * line, so ten queued jobs get no more turns than one. A client with no lookup queued starts at 0, ahead of those who
 * have had many; one whose whole line is past the cap starts where the queue stands, as a newcomer would there,
 * rather than behind its own backlog. Takes the key space's lock; call it before locking any job or queue row.
 */
export async function placeInLine(
  db: Executor,
  clientId: string,
  count: number,
  /** The job being created: not yet in its client's line. A retried job is, with its lookups still queued. */
  newJob?: string,
): Promise<Line> {
  await lockKeySpace(db, "exclusive");
  if (count === 0) return { start: 0, span: 0 };
  const line = await interleaveLine(db, lineHashes(clientId, newJob), wantedByOthers(clientId), count);
  if (!line) {
    const queued = (await clientRankOffset(db, clientId, newJob)) > 0;
    return { start: queued ? await queueHead(db) : 0, span: 0 };
  }
  // The client's other waiting jobs moved back as their rows did (by up to `count`): their estimates follow.
  await db.execute(sql`
    update jobs j
    set last_priority = least(j.last_priority + least(greatest(j.last_priority - ${line.start}::int, 0), ${count}::int), ${MAX_PRIORITY}),
      last_rank = j.last_rank + least(greatest(j.last_rank - ${line.start}::int, 0), ${count}::int)
    where j.client_id = ${clientId} and ${newJob === undefined ? sql`true` : sql`j.id <> ${newJob}`}
      and j.cancelled_at is null and j.expired_at is null and j.last_rank > ${line.start}::int
      and exists (select 1 from tasks t where t.job_id = j.id and t.status = 'pending')`);
  return line;
}

/** The hashes of the client's queued lookups that can be below the cap: each job's first pending ones. */
function lineHashes(clientId: string, except: string | undefined): SQL {
  return sql`
    select first.hash from jobs line_job
    cross join lateral (
      select hash from tasks where job_id = line_job.id and status = 'pending' order by position limit ${MAX_PRIORITY}
    ) first
    where line_job.client_id = ${clientId} and ${except === undefined ? sql`true` : sql`line_job.id <> ${except}`}
      and line_job.cancelled_at is null
      and line_job.expired_at is null`;
}

/** Whether a pending task of another client (or of no client) wants the hash. */
function wantedByOthers(clientId: string): (hash: SQL) => SQL {
  return (hash) => sql`
    select 1 from tasks other_task join jobs other_job on other_job.id = other_task.job_id
    where other_task.hash = ${hash} and other_task.status = 'pending' and other_job.client_id is distinct from ${clientId}`;
}
