// Worker pool heartbeats: a pool that stops beating is forgotten, and the reaper (worker/reaper.ts) frees its work.
import { sql } from "drizzle-orm";
import type { Executor } from "../client";
import { workerPools } from "../schema";

export async function beat(db: Executor, pool: { id: string; hostname: string; pid: number; concurrency: number }) {
  await db
    .insert(workerPools)
    .values(pool)
    .onConflictDoUpdate({ target: workerPools.id, set: { lastBeatAt: sql`now()` } });
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
