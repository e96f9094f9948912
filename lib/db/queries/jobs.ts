// Jobs themselves: the row written at submission and read by every page and poll. Their tasks: ./tasks.ts.
import { and, eq, isNull, sql } from "drizzle-orm";
import type { InvalidLine } from "@/lib/hashes";
import type { Executor } from "../client";
import { jobs } from "../schema";

export interface NewJob {
  id: string;
  name: string | null;
  total: number;
  duplicates: number;
  invalidLines: InvalidLine[];
  invalidCount: number;
  clientId?: string | null;
}

export async function insertJob(db: Executor, job: NewJob) {
  await db.insert(jobs).values(job);
}

/** A job that retention has begun to delete is gone already, for every reader and manager. */
const LIVE = (id: string) => and(eq(jobs.id, id), isNull(jobs.expiredAt));

export async function findJob(db: Executor, id: string) {
  const [job] = await db.select().from(jobs).where(LIVE(id));
  return job ?? null;
}

/** Locks the job's row: cancel, retry and retention's expiry of one job run one at a time. */
export async function findJobForUpdate(db: Executor, id: string) {
  // No key update: cancel, retry and expiry still exclude each other, while a lookup settling the job's tasks (whose
  // count deltas reference the job) is not made to wait for a cancel that waits for that lookup's queue row.
  const [job] = await db.select().from(jobs).where(LIVE(id)).for("no key update");
  return job ?? null;
}

/** The job's place in the queue after lookups were queued for it (enqueueLookups's lastPriority and lastRank). */
export async function setQueuePlace(db: Executor, id: string, place: { lastPriority: number; lastRank: number }) {
  await db
    .update(jobs)
    .set({
      lastPriority: sql`greatest(${jobs.lastPriority}, ${place.lastPriority})`,
      lastRank: sql`greatest(${jobs.lastRank}, ${place.lastRank})`,
    })
    .where(eq(jobs.id, id));
}

export async function markCancelled(db: Executor, id: string) {
  await db.update(jobs).set({ cancelledAt: sql`coalesce(${jobs.cancelledAt}, now())` }).where(eq(jobs.id, id));
}
