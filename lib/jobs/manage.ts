// Cancelling a job and retrying its failed tasks: each one transaction over rows and queue together, run again
// when Postgres rolls it back for a deadlock.
import { concurrencyLimit } from "@/lib/concurrency";
import type { Db } from "@/lib/db/client";
import { placeInLine } from "@/lib/db/queries/clients";
import { findJob, findJobForUpdate, markCancelled, setQueuePlace } from "@/lib/db/queries/jobs";
import { enqueueLookups, lockKeySpace, lockLookups, removeUnwantedLookups } from "@/lib/db/queries/queue";
import {
  cancelledHashesOfJob,
  cancelPendingTasks,
  hasFailedTasks,
  pendingHashesOfJob,
  pendingLookupsOfJob,
  reopenFailedTasks,
} from "@/lib/db/queries/tasks";
import { retryingTransaction } from "@/lib/db/retry";
import { AppError } from "@/lib/errors";
import { isJobId, type CancelResult, type RetryResult } from "./api-schema";

const noSuchJob = (id: string) => new AppError("not_found", `No job with id ${JSON.stringify(id)}.`);

/**
 * Cancels and retries hold the key space's lock, which every upload needs: a process runs two at a time, the rest
 * waiting without a connection, and one with nothing to do (a job cancelled already, nothing failed) returns before
 * taking the lock at all.
 */
const manages = concurrencyLimit(2);

/**
 * The job's pending tasks end as cancelled, and lookups that no other job's pending task wants leave the queue.
 * It holds the key space's lock (no lookup row can be added meanwhile), then the queue rows in key order, and
 * decides "wanted" in a statement that runs after: a job created just before has committed its tasks by then.
 */
export async function cancelJob(db: Db, id: string): Promise<CancelResult> {
  if (!isJobId(id)) throw noSuchJob(id);
  const seen = await findJob(db, id);
  if (!seen) throw noSuchJob(id);
  if (seen.cancelledAt) return { cancelled: 0 };
  return manages(() => retryingTransaction(db, async (tx) => {
    // Nobody adds a lookup row while we decide which ones nobody wants (queue.ts, lockKeySpace). Taken before the
    // job's row, as creating a job takes it before moving its client's jobs (clients.ts, placeInLine).
    await lockKeySpace(tx, "exclusive");
    const job = await findJobForUpdate(tx, id);
    if (!job) throw noSuchJob(id);
    // Cancelled already: nothing is pending (a cancelled job cannot be retried), so there is nothing to do.
    if (job.cancelledAt) return { cancelled: 0 };
    await lockLookups(tx, pendingHashesOfJob(id));
    const cancelled = await cancelPendingTasks(tx, id);
    await markCancelled(tx, id);
    // Running lookups are left to finish: each one settles by itself and finds nobody waiting for it.
    await removeUnwantedLookups(tx, cancelledHashesOfJob(id));
    return { cancelled };
  }));
}

export async function retryFailedTasks(db: Db, id: string, lookupMaxAttempts: number): Promise<RetryResult> {
  if (!isJobId(id)) throw noSuchJob(id);
  const seen = await findJob(db, id);
  if (!seen) throw noSuchJob(id);
  if (seen.cancelledAt) throw cancelledAlready();
  if (!(await hasFailedTasks(db, id))) return { retried: 0 };
  return manages(() => retryingTransaction(db, async (tx) => {
    // The key space before the job's row, in the order every path takes them (cancelJob).
    await lockKeySpace(tx, "exclusive");
    const job = await findJobForUpdate(tx, id);
    if (!job) throw noSuchJob(id);
    if (job.cancelledAt) throw cancelledAlready();
    const hashes = await reopenFailedTasks(tx, id);
    if (hashes.length > 0) {
      // Beside its client's queued lookups, as a new job of that client would go.
      const line = job.clientId ? await placeInLine(tx, job.clientId, hashes.length) : undefined;
      const { lastPriority, lastRank } = await enqueueLookups(tx, pendingLookupsOfJob(id, hashes), lookupMaxAttempts, line);
      await setQueuePlace(tx, id, { lastPriority, lastRank });
    }
    return { retried: hashes.length };
  }));
}

const cancelledAlready = () => new AppError("conflict", "This job was cancelled; submit its hashes again instead.");
