// Every query against graphile-worker's own tables and functions lives here. It relies on graphile-worker 0.17's
// private schema: graphile_worker._private_jobs (id, task_id, key, payload, priority, run_at, attempts, max_attempts,
// last_error, flags, revision, locked_at, locked_by, is_available), _private_tasks (id, identifier), the
// `jobs:insert` notification its workers listen for, add_jobs(job_spec[], preserve_run_at) and
// force_unlock_workers(text[]). tests/integration/queue-contract.test.ts checks each of these, so that an upgrade
// that changes them fails there. Two of our database functions touch _private_jobs too, and are called from here
// only: hashscan_settle_lookup and hashscan_wake_lease_waiters (drizzle/0011_settle_function.sql).
//
// The contract with graphile-worker, as we use it:
// - One row per name stands for a hash: the row holding the key `lookup:<hash>`. A row is *alive* while it is
//   running (locked) or may still run (attempts < max_attempts); a *dead* row (unlocked, out of attempts) never
//   runs again and must never stand for a hash: enqueueing replaces it and the reaper deletes it.
// - A running lookup settles itself: in one transaction it checks that it still holds its row (fencing), writes its
//   outcome, deletes its row and, if it must wait, adds a new one. graphile-worker's own completion (a delete by
//   id) then finds nothing. A lookup whose row was taken over writes nothing, and ends its process: only the reaper
//   releases a running row, so its pool was declared dead (graphile-worker's failure update matches the pool, not
//   the run, and could unlock a newer run of the same job in that pool).
import { sql, type SQL } from "drizzle-orm";
import { LOOKUP_KEY_PREFIX, LOOKUP_TASK, lookupFlag, lookupJobKey, VT_FLAG, type LookupPayload } from "@/lib/lookups/job";
import { driverOf, type Db, type Executor, type SqlExecutor } from "../client";
import { toPgArray } from "./pg-array";
import { rawArgument } from "./reports";
import { taskEndArguments, type TaskEnd } from "./tasks";

/** graphile-worker stores priority as a smallint. */
export const MAX_PRIORITY = 32767;

/**
 * A queued lookup's run_at: a fixed moment long past (so it is due at once), plus a microsecond per rank past the
 * smallint's range. Ranks at the cap then keep their order across jobs and clients, not the order they were queued
 * in: a client's rank 40,000 runs before another's rank 50,000, whoever came first.
 */
const RANK_TIME = "2000-01-01T00:00:00Z";

const ALIVE = sql`(j.locked_at is not null or j.attempts < j.max_attempts)`;

/** A lookup row's flags, as add_jobs writes `array[VT_FLAG]`. */
const LOOKUP_FLAGS = sql`jsonb_build_object(${VT_FLAG}::text, true)`;

/**
 * Queues one lookup per row of `wanted` (a query yielding `hash` and `rank`, the hash's 0-based rank within its
 * job), placed in its client's `line` (interleaveLine). Call it inside the transaction that wrote the tasks: the queue rows then appear with them, or not at all.
 *
 * A hash whose row is alive keeps that row (its wait, its attempt count), locked until we commit: a running
 * lookup settles under the same lock, so it either finishes before our tasks exist (and we add nothing for it, as
 * the row is gone) or sees them. Its priority moves up when our rank is better. A dead row of the hash runs again,
 * as new. Every other hash gets a new row. Enqueueing holds the key space's lock (lockKeySpace), and rows are
 * locked and added in key order, the order a cancel locks them in too; ranks past the smallint's range keep their
 * order in run_at (a microsecond apart), as graphile-worker runs equal priorities by run_at.
 *
 * The rows are written here rather than by add_jobs: they are what add_jobs writes for the same specs (the contract
 * test compares them column by column), inserted straight from the tasks, where add_jobs took a third of a second
 * per 10,000 rows in its generic steps (an array of specs unnested four times, a subquery per row for its flags, an
 * upsert, every row returned and kept): 100,000 lookups, 3.0 s of database CPU through add_jobs, about 1 s this way.
 * Like add_jobs, it tells the workers (`jobs:insert`) how many rows may run now.
 */
export async function enqueueLookups(
  db: Executor,
  wanted: SQL,
  maxAttempts: number,
  line: Line = { start: 0, span: 0 },
): Promise<{ queued: number; lastPriority: number; lastRank: number }> {
  await lockKeySpace(db, "exclusive");
  // Within the span of the line's rows, every other rank (interleaveLine made room); past it, one after another.
  const specs = sql`
    select w.hash, ${LOOKUP_KEY_PREFIX} || w.hash as key, w.rank, least(w.rank, ${MAX_PRIORITY})::int as priority,
      ${RANK_TIME}::timestamptz + greatest(w.rank - ${MAX_PRIORITY}, 0) * interval '1 microsecond' as run_at
    from (
      select hash, case when rank < ${line.span}::int then ${line.start}::int + 2 * rank + 1 else ${line.start}::int + ${line.span}::int + rank end as rank
      from (${wanted}) r
    ) w`;
  // One statement: the rows our hashes already have, locked; the alive ones our rank beats moved up (running rows
  // too: their lookup re-reads its priority when it settles), the dead ones run again as new; and a row added for
  // every other hash. Existing and added rows are disjoint, so no two parts write the same row.
  const [counts] = await db.execute<{ kept: number; added: number; last_priority: number | null; last_rank: number | null }>(sql`
    with specs as (${specs}),
    existing as (
      select j.id, j.key, j.priority as current, s.priority as wanted, s.run_at, s.hash, ${ALIVE} as alive
      from graphile_worker._private_jobs j join specs s on j.key = s.key
      order by j.key
      for update of j
    ),
    -- The task's id, its row added if it has none yet. An update rather than "do nothing": a row another session is
    -- adding at this moment (a worker's first start) is not in this statement's snapshot once it commits, but the
    -- conflict's update reaches it and returns its id.
    task_id as (
      insert into graphile_worker._private_tasks (identifier) values (${LOOKUP_TASK})
      on conflict (identifier) do update set identifier = excluded.identifier
      returning id
    ),
    moved as (
      update graphile_worker._private_jobs j set priority = e.wanted, updated_at = now()
      from existing e
      where j.id = e.id and e.alive and e.wanted < e.current
      returning j.id
    ),
    -- What add_jobs does to an unlocked row of the key (after it takes the key off a dead one, to add a new row); the
    -- row keeps its id and creation time, so it runs before newer rows of the same priority and time.
    revived as (
      update graphile_worker._private_jobs j
      set task_id = (select id from task_id), job_queue_id = null, payload = json_build_object('hash', e.hash), run_at = e.run_at,
        priority = e.wanted, max_attempts = ${maxAttempts}::smallint, attempts = 0, last_error = null, flags = ${LOOKUP_FLAGS},
        revision = j.revision + 1, updated_at = now()
      from existing e
      where j.id = e.id and not e.alive
      returning j.id
    ),
    added as (
      insert into graphile_worker._private_jobs (task_id, payload, run_at, max_attempts, key, priority, flags)
      select (select id from task_id), json_build_object('hash', s.hash), s.run_at, ${maxAttempts}::smallint, s.key, s.priority::smallint,
        ${LOOKUP_FLAGS}
      from specs s
      -- A hashed subplan: a new job's id is in no statistics, so its tasks are estimated few, and an anti join
      -- planned for few rows is a nested loop over every pair (20,000 rows: 35 s).
      where s.key not in (select key from existing)
      order by s.key
      returning 1
    ),
    counts as (
      select
        (select count(*)::int from existing where alive) as kept,
        (select count(*)::int from revived) + (select count(*)::int from added) as added,
        (select max(priority) from specs) as last_priority,
        (select max(rank) from specs) as last_rank
    )
    select kept, added, last_priority, last_rank,
      -- As add_jobs tells them: a worker waiting for work looks at once instead of at its next poll.
      case when added > 0 then pg_notify('jobs:insert', json_build_object('r', random(), 'count', added)::text) end
    from counts`);
  return { queued: counts.kept + counts.added, lastPriority: counts.last_priority ?? 0, lastRank: counts.last_rank ?? 0 };
}

/**
 * Where a new job's lookups go in its client's line: from `start`, taking every other rank over the `span` the
 * client's queued rows occupy from there (interleaveLine moved those to the ranks between), then one after another.
 */
export interface Line {
  start: number;
  span: number;
}

/**
 * Makes room in a client's line for a new job: the client's queued rows below the smallint cap (`lineHashes`: the
 * hashes of its pending tasks) move apart so that the new job's lookups take every other rank among them. The
 * client still has one lookup per rank, as a client with one job has (fair shares across clients), while its new
 * job runs beside its older ones rather than after them (a small job is not stuck behind its client's big one).
 * Rows another client's pending task wants (`wantedByOthers`, given a hash) and running rows stay where they are.
 * Call it under the key space's exclusive lock. Null when the client has no such row: its line is empty, or all of
 * it is past the cap.
 */
export async function interleaveLine(
  db: Executor,
  lineHashes: SQL,
  wantedByOthers: (hash: SQL) => SQL,
  count: number,
): Promise<Line | null> {
  const [row] = await db.execute<{ start: number | null; span: number | null }>(sql`
    with mine as (
      select j.id, j.priority from graphile_worker._private_jobs j
      where j.key = any(${keysOf(lineHashes)}) and j.priority < ${MAX_PRIORITY} and j.locked_at is null
        and j.attempts < j.max_attempts
        and not exists (${wantedByOthers(HASH_OF_KEY)})
      order by j.key
      for update of j
    ),
    bounds as (select min(priority) as start, max(priority) - min(priority) + 1 as span from mine),
    moved as (
      update graphile_worker._private_jobs j
      set priority = least(m.priority + least(m.priority - b.start, ${count}::int), ${MAX_PRIORITY}),
        -- Moved past the cap, a row keeps its rank in run_at, as enqueueLookups gives it (a waiting row keeps its wait).
        run_at = case when j.run_at < ${RANK_TIME}::timestamptz + interval '1 day'
          then ${RANK_TIME}::timestamptz + greatest(m.priority + least(m.priority - b.start, ${count}::int) - ${MAX_PRIORITY}, 0) * interval '1 microsecond'
          else j.run_at end,
        updated_at = now()
      from mine m, bounds b
      where j.id = m.id and m.priority > b.start
      returning j.id
    )
    select start, span from bounds`);
  return row.start === null ? null : { start: row.start, span: row.span! };
}

/** The priority of the queue's next lookup, or 0 when none waits: where the queue stands now. */
export async function queueHead(db: Executor): Promise<number> {
  const [row] = await db.execute<{ priority: number }>(sql`
    select j.priority from graphile_worker._private_jobs j
    where j.is_available and j.run_at <= now()
      and j.task_id = (select id from graphile_worker._private_tasks where identifier = ${LOOKUP_TASK})
    order by j.priority limit 1`);
  return row?.priority ?? 0;
}

/**
 * Whoever adds lookup rows holds this lock, taken before any queue row: enqueueing jobs one at a time (exclusive),
 * settling lookups that may queue themselves again beside each other (shared). add_jobs, for a key whose row
 * appeared after our statement's snapshot, would overwrite that row's payload (its attempt count, what it waits
 * for) and priority; under this lock no such row can appear, and two uploads never wait on each other's keys.
 */
export async function lockKeySpace(db: Executor, mode: "exclusive" | "shared"): Promise<void> {
  const lock = mode === "exclusive" ? sql`pg_advisory_xact_lock` : sql`pg_advisory_xact_lock_shared`;
  await db.execute(sql`select ${lock}(hashtext('hashscan:lookup-keys'))`);
}

/**
 * The keys of the rows of the given hashes, as one array to match with `key = any(…)`: an index probe per key or one
 * hashed filter, whatever the statistics say. As a join, planned on statistics from before a big job, it was a
 * nested loop rescanning the job's million hashes for every queue row (a cancel ran past the 5-minute bound).
 */
const keysOf = (hashes: SQL) => sql`array(select ${LOOKUP_KEY_PREFIX} || h.hash from (${hashes}) h)`;

/** The hash a lookup row's key names. */
const HASH_OF_KEY = sql`substr(j.key, ${LOOKUP_KEY_PREFIX.length + 1})`;

/** Locks, in key order, the alive rows of the given hashes: a cancel holds them before it decides anything. */
export async function lockLookups(db: Executor, hashes: SQL): Promise<void> {
  await db.execute(sql`
    select j.id from graphile_worker._private_jobs j
    where j.key = any(${keysOf(hashes)}) and ${ALIVE}
    order by j.key
    for update of j`);
}

/**
 * Deletes the queued (not running) rows of the given hashes that no pending task wants any more. Run it as its own
 * statement after lockLookups: it then sees every task committed by a transaction it waited for.
 */
export async function removeUnwantedLookups(db: Executor, hashes: SQL): Promise<number> {
  const rows = await db.execute(sql`
    delete from graphile_worker._private_jobs j
    where j.key = any(${keysOf(hashes)}) and j.locked_at is null
      -- A subquery per row (an index probe), not NOT EXISTS: with statistics from before a big job was cancelled,
      -- the anti join was planned as a nested loop rescanning the pending index whole for every hash, its entries
      -- for the tasks just cancelled included (100,000 hashes: over 5 minutes; this way, seconds).
      and (select t.hash from tasks t where t.status = 'pending' and t.hash = ${HASH_OF_KEY} limit 1) is null
    returning j.id`);
  return rows.length;
}

/** A running lookup's hold on its row: the pool that fetched it, and the attempt count that fetch set. */
export interface RowLock {
  jobId: string;
  lockedBy: string;
  attempts: number;
}

/**
 * Locks our own row if we still hold it, and returns its current priority (a newer job may have moved it up);
 * null when the row was released and taken over, or removed: then we must write nothing.
 */
export async function holdOwnRow(db: Executor, lock: RowLock): Promise<{ priority: number } | null> {
  // Prepared (postgres.js), as every statement of a lookup's settling: see tasks.ts.
  const [row] = await driverOf(db)<{ priority: number }[]>`
    select priority from graphile_worker._private_jobs
    where id = ${lock.jobId}::bigint and locked_by = ${lock.lockedBy}::text and attempts = ${lock.attempts}::int
    for update`;
  return row ?? null;
}

/** What a settle found: it wrote (settled), or, fenced, wrote nothing: see hashscan_settle_row. */
export type RowSettle = "settled" | "taken" | "gone";

/**
 * A lookup's final outcome, in one statement and its own transaction (hashscan_settle_lookup), with VirusTotal's
 * answer `raw` if it brought one (stored first, and kept whatever follows): while `lock` still holds the row, the tasks
 * of every job that asked for `names` end as `end` says, `saved` requests are counted, the row is deleted, lookups
 * waiting for the lease run now and `holder`'s lease on `hash` is given up. Fenced, it writes nothing but the answer,
 * and says whether the row is gone or taken. A settle that failed after storing the answer throws SettleFailedError.
 * The pool, never a transaction: the answer must commit whatever the caller does next.
 */
export async function settleLookupRow(
  db: Db,
  run: { hash: string; lock: RowLock; holder: string },
  outcome: { names: readonly string[]; end: TaskEnd; budget: string; saved: number; raw?: unknown },
): Promise<RowSettle> {
  const q = driverOf(db);
  const { jobId, lockedBy, attempts } = run.lock;
  const [row] = await q<{ outcome: RowSettle | null; failed_code: string | null; failed_message: string | null }[]>`
    select * from hashscan_settle_lookup(
      ${jobId}::bigint, ${lockedBy}::text, ${attempts}::int, ${run.hash}::text, ${lookupJobKey(run.hash)}::text,
      ${run.holder}::text, ${outcome.budget}::text, ${outcome.saved}::int,
      ${outcome.names as string[]}::text[], ${taskEndArguments(q, outcome.end)},
      ${outcome.raw === undefined ? null : rawArgument(outcome.raw)}::jsonb
    )`.execute();
  if (row.outcome === null) throw new SettleFailedError(row.failed_code!, row.failed_message!);
  return row.outcome;
}

/** A settle that failed after the answer it carried was stored (committed): Postgres's error, raised on this side. */
export class SettleFailedError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "SettleFailedError";
  }
}

export async function deleteRow(db: SqlExecutor, jobId: string): Promise<void> {
  await driverOf(db)`delete from graphile_worker._private_jobs where id = ${jobId}::bigint`.execute();
}

/**
 * Puts a lookup back in the queue to run at `runAt`. Call it after deleting our own row. Where another row already
 * stands for the name (added while we ran): a running one is left alone (it will settle the name itself); a queued
 * one takes our wait, attempt count and the better of the two priorities. A lookup back from a wait has had its
 * turn, and its run_at is a real time: past the cap it would sort after every rank there (RANK_TIME), so it comes
 * back just ahead of the cap instead. Its flag says what it waits for (lookupFlag): a wake time from the window
 * lets it through a gate closed for the window alone.
 */
export async function requeueLookup(
  db: Executor,
  job: { payload: LookupPayload; runAt: Date; priority: number; maxAttempts: number },
): Promise<boolean> {
  const key = lookupJobKey(job.payload.hash);
  const rows = await db.execute(sql`
    with existing as (
      select locked_at, priority, attempts < max_attempts as alive
      from graphile_worker._private_jobs where key = ${key}
      for update
    )
    select id from graphile_worker.add_jobs(
      array(
        select row(
          ${LOOKUP_TASK}, (${JSON.stringify(job.payload)}::text)::json, null, ${job.runAt.toISOString()}::timestamptz,
          ${job.maxAttempts}::smallint, ${key},
          least(${job.priority}, coalesce((select priority from existing where alive), ${MAX_PRIORITY}), ${MAX_PRIORITY - 1})::smallint,
          array[${lookupFlag(job.payload.waitingFor)}]
        )::graphile_worker.job_spec
        where not exists (select 1 from existing where locked_at is not null)
      )
    )`);
  return rows.length > 0;
}

/** Lookups of these names waiting for the lease their holder just gave up run now (drizzle/0011_settle_function.sql). */
export async function wakeLeaseWaiters(db: SqlExecutor, hashes: readonly string[]): Promise<void> {
  await driverOf(db)`select hashscan_wake_lease_waiters(${hashes.map(lookupJobKey)}::text[])`.execute();
}

/**
 * Lookups waiting for something that no longer holds them run now: a pause of `budget` with one of `causes` (it
 * ended), or any wait on another budget (this worker spends its own). Backoffs and lease waits are kept.
 */
export async function wakeLookupsWaitingFor(db: Executor, budget: string, causes: readonly string[]): Promise<number> {
  const rows = await db.execute(sql`
    update graphile_worker._private_jobs j set run_at = now(), updated_at = now()
    where j.locked_at is null and j.run_at > now() and j.attempts < j.max_attempts
      and j.payload->'waitingFor'->>'for' in ('pause', 'window')
      and (
        j.payload->'waitingFor'->>'budget' <> ${budget}
        or (j.payload->'waitingFor'->>'for' = 'pause'
            and j.payload->'waitingFor'->>'cause' = any(${toPgArray(causes)}::text[]))
      )
    returning j.id`);
  return rows.length;
}

/**
 * Lookups waiting to run (not running) at or before priority `lastPriority`, a job's place in the queue, counted
 * up to `cap` along graphile-worker's own index of available rows: the cost stays flat at any queue length.
 */
export async function countLookupsAhead(db: Executor, lastPriority: number, cap: number): Promise<{ count: number; capped: boolean }> {
  const [row] = await db.execute<{ n: number }>(sql`
    select count(*)::int as n from (
      select 1 from graphile_worker._private_jobs j
      where j.is_available and j.priority <= ${lastPriority}
        and j.task_id = (select id from graphile_worker._private_tasks where identifier = ${LOOKUP_TASK})
      order by j.priority
      limit ${cap}
    ) ahead`);
  return { count: row.n, capped: row.n >= cap };
}

export async function countQueuedLookups(db: Executor): Promise<number> {
  // Lookups only: the queue also holds the daily retention task.
  const [row] = await db.execute<{ n: number }>(sql`
    select count(*)::int as n from graphile_worker._private_jobs j
    join graphile_worker._private_tasks t on t.id = j.task_id
    where t.identifier = ${LOOKUP_TASK} and ${ALIVE}`);
  return row.n;
}

export interface ReleasedRow {
  hash: string;
  attempts: number;
  /** Whether the row still stood for its hash (held the key): only then do its tasks depend on it. */
  keyed: boolean;
  lastError: string | null;
}

/**
 * Rows locked for longer than `staleSeconds` by pools that are not alive: those on their last attempt (or that no
 * longer stand for their hash) are deleted and returned, the others unlocked to run again. Returns the dead pools.
 */
export async function releaseDeadPoolRows(db: Executor, staleSeconds: number): Promise<{ pools: string[]; spent: ReleasedRow[] }> {
  const locked = await db.execute<{ locked_by: string }>(sql`
    select distinct locked_by from graphile_worker._private_jobs j
    where j.locked_by is not null
      and j.locked_at < now() - make_interval(secs => ${staleSeconds})
      and not exists (select 1 from worker_pools p where p.id = j.locked_by)`);
  const pools = locked.map((row) => row.locked_by);
  if (pools.length === 0) return { pools, spent: [] };
  const poolArray = toPgArray(pools);
  const spent = await db.execute<{ hash: string; attempts: number; keyed: boolean; last_error: string | null }>(sql`
    delete from graphile_worker._private_jobs
    where locked_by = any(${poolArray}::text[]) and (attempts >= max_attempts or key is null)
    returning payload->>'hash' as hash, attempts, key is not null as keyed, last_error`);
  await db.execute(sql`select graphile_worker.force_unlock_workers(${poolArray}::text[])`);
  return {
    pools,
    spent: spent.map((row) => ({ hash: row.hash, attempts: row.attempts, keyed: row.keyed, lastError: row.last_error })),
  };
}

/** A lookup row that will never run again: out of attempts and not running (`j` a row, `t` its task). */
const DEAD_LOOKUP = sql`t.id = j.task_id and t.identifier = ${LOOKUP_TASK} and j.locked_at is null and j.attempts >= j.max_attempts`;

/** Dead lookup rows: the reaper deletes them as it finds them, so this is 0. */
export async function countDeadLookups(db: Executor): Promise<number> {
  const [row] = await db.execute<{ n: number }>(sql`
    select count(*)::int as n from graphile_worker._private_jobs j, graphile_worker._private_tasks t where ${DEAD_LOOKUP}`);
  return row.n;
}

/** Deletes dead lookup rows (out of attempts, not running) and returns them: none may stand for a hash. */
export async function deleteDeadLookups(db: Executor): Promise<ReleasedRow[]> {
  const rows = await db.execute<{ hash: string; attempts: number; keyed: boolean; last_error: string | null }>(sql`
    delete from graphile_worker._private_jobs j
    using graphile_worker._private_tasks t
    where ${DEAD_LOOKUP}
    returning j.payload->>'hash' as hash, j.attempts, j.key is not null as keyed, j.last_error`);
  return rows.map((row) => ({ hash: row.hash, attempts: row.attempts, keyed: row.keyed, lastError: row.last_error }));
}
