// Idempotency keys of job submissions: which job a client's key created, and with which request, for a day.
import { and, eq, gt, isNull, lte, sql } from "drizzle-orm";
import type { Executor } from "../client";
import { idempotencyKeys, jobs, type Job } from "../schema";

/** How long a key answers with its job; after that the same key creates a new one. */
export const IDEMPOTENCY_WINDOW_HOURS = 24;

const FRESH = sql`now() - make_interval(hours => ${IDEMPOTENCY_WINDOW_HOURS})`;

export interface KeptRequest {
  /** The job the key created, read with the key: a replay answers from this row. */
  job: Job;
  requestDigest: string;
}

/** The job this client's key created within the window, if any, while that job is there (not expired). */
export async function findKeptRequest(db: Executor, clientId: string, key: string): Promise<KeptRequest | null> {
  const [row] = await db
    .select({ job: jobs, requestDigest: idempotencyKeys.requestDigest })
    .from(idempotencyKeys)
    .innerJoin(jobs, and(eq(jobs.id, idempotencyKeys.jobId), isNull(jobs.expiredAt)))
    .where(and(eq(idempotencyKeys.clientId, clientId), eq(idempotencyKeys.key, key), gt(idempotencyKeys.createdAt, FRESH)));
  return row ?? null;
}

/**
 * Records the job a key created; the key's earlier use is replaced once past the window, or once its job has expired
 * (what findKeptRequest no longer finds). Under the client's lock.
 */
export async function keepRequest(db: Executor, clientId: string, key: string, requestDigest: string, jobId: string): Promise<void> {
  await db
    .insert(idempotencyKeys)
    .values({ clientId, key, requestDigest, jobId })
    .onConflictDoUpdate({
      target: [idempotencyKeys.clientId, idempotencyKeys.key],
      set: { requestDigest, jobId, createdAt: sql`now()` },
      setWhere: sql`${lte(idempotencyKeys.createdAt, FRESH)} or not exists (
        select 1 from ${jobs} where ${jobs.id} = ${idempotencyKeys.jobId} and ${jobs.expiredAt} is null)`,
    });
}

/** Keys past the window, a batch at a time (retention). */
export async function deleteStaleKeys(db: Executor, limit: number): Promise<number> {
  const rows = await db.execute(sql`
    delete from ${idempotencyKeys} where ctid = any(array(
      select ctid from ${idempotencyKeys} where ${idempotencyKeys.createdAt} <= ${FRESH} limit ${limit}))
    returning 1`);
  return rows.length;
}
