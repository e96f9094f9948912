// Worker pool heartbeats: a pool that stops beating is forgotten, and the reaper (worker/reaper.ts) frees its work.
import { sql } from "drizzle-orm";
import type { Executor } from "../client";
import { workerPools } from "../schema";

export async function registerPool(db: Executor, pool: { id: string; hostname: string; pid: number; concurrency: number }) {
  await db.insert(workerPools).values(pool).onConflictDoNothing();
}

/** Returns false when the pool's row is gone: another process found it silent and released its work. */
export async function beat(db: Executor, id: string): Promise<boolean> {
  const rows = await db
    .update(workerPools)
    .set({ lastBeatAt: sql`now()` })
    .where(sql`${workerPools.id} = ${id}`)
    .returning({ id: workerPools.id });
  return rows.length === 1;
}

export async function removePool(db: Executor, id: string) {
  await db.delete(workerPools).where(sql`${workerPools.id} = ${id}`);
}

export async function forgetSilentPools(db: Executor, staleSeconds: number) {
  await db.execute(sql`delete from worker_pools where last_beat_at < now() - make_interval(secs => ${staleSeconds})`);
}

export async function listLivePools(db: Executor, staleSeconds: number) {
  return db
    .select()
    .from(workerPools)
    .where(sql`${workerPools.lastBeatAt} >= now() - make_interval(secs => ${staleSeconds})`)
    .orderBy(workerPools.startedAt);
}

/**
 * How long ago the most recent heartbeat of any registered pool was, in seconds; null when none is registered (none
 * ran, or all stopped cleanly: a stopping pool removes its row, a silent one is removed by another's reaper).
 */
export async function newestHeartbeatAge(db: Executor): Promise<number | null> {
  const [row] = await db.execute<{ age: number | null }>(sql`
    select extract(epoch from now() - max(last_beat_at))::float8 as age from worker_pools`);
  return row.age === null ? null : Math.max(0, row.age);
}
