// Worker pool heartbeats, and the release of jobs held by a pool that stopped beating (graphile-worker alone
// would keep them locked for 4 hours).
import { sql } from "drizzle-orm";
import type { Executor } from "../client";
import { workerPools } from "../schema";
import { releaseLeasesOfPools } from "./leases";
import { failTasks } from "./reports";

export async function beat(db: Executor, pool: { id: string; hostname: string; pid: number; concurrency: number }) {
  await db
    .insert(workerPools)
    .values(pool)
    .onConflictDoUpdate({ target: workerPools.id, set: { lastBeatAt: sql`now()` } });
}

export async function removePool(db: Executor, id: string) {
  await db.delete(workerPools).where(sql`${workerPools.id} = ${id}`);
}

/**
 * Forgets pools silent for longer than `staleSeconds`, and unlocks every job locked that long by a pool that is
 * not alive (including one that died before its first beat). Returns the pool ids whose jobs were released.
 */
export async function releaseStalePools(db: Executor, staleSeconds: number): Promise<string[]> {
  await db.execute(sql`delete from worker_pools where last_beat_at < now() - make_interval(secs => ${staleSeconds})`);
  const rows = await db.execute<{ locked_by: string }>(sql`
    select distinct locked_by from graphile_worker._private_jobs j
    where j.locked_by is not null
      and j.locked_at < now() - make_interval(secs => ${staleSeconds})
      and not exists (select 1 from worker_pools p where p.id = j.locked_by)`);
  const dead = rows.map((row) => row.locked_by);
  if (dead.length === 0) return dead;
  const pools = `{${dead.join(",")}}`;

  // graphile-worker counts an attempt when it fetches a job, and unlocking does not give it back: a job that died
  // on its last attempt would never run again and its tasks would wait forever. They fail, with the reason.
  const spent = await db.execute<{ id: string; hash: string; attempts: number }>(sql`
    select id::text, payload->>'hash' as hash, attempts from graphile_worker._private_jobs
    where locked_by = any(${pools}::text[]) and attempts >= max_attempts`);
  for (const job of spent) {
    await failTasks(db, job.hash, `Gave up after ${job.attempts} attempts: the worker running the lookup stopped`);
  }
  if (spent.length > 0) {
    await db.execute(sql`select graphile_worker.permanently_fail_jobs(${`{${spent.map((job) => job.id).join(",")}}`}::bigint[], 'worker stopped')`);
  }
  await db.execute(sql`select graphile_worker.force_unlock_workers(${pools}::text[])`);
  // A dead pool's requests died with it: its leases (holder "<pool>/<job>") need not be waited out.
  await releaseLeasesOfPools(db, dead);
  return dead;
}

export async function listLivePools(db: Executor, staleSeconds: number) {
  return db
    .select()
    .from(workerPools)
    .where(sql`${workerPools.lastBeatAt} >= now() - make_interval(secs => ${staleSeconds})`)
    .orderBy(workerPools.startedAt);
}
