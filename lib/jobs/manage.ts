// Cancelling a job and retrying its failed tasks: each one transaction over rows and queue together.
import type { Db } from "@/lib/db/client";
import { cancelJob as cancelJobRows, enqueueLookups, findJob, reopenFailedTasks } from "@/lib/db/queries/jobs";
import { AppError } from "@/lib/errors";

export async function cancelJob(db: Db, id: string): Promise<{ cancelled: number }> {
  return db.transaction(async (tx) => {
    if (!(await findJob(tx, id))) throw new AppError("not_found", `No job with id ${id}.`);
    return { cancelled: await cancelJobRows(tx, id) };
  });
}

export async function retryFailedTasks(db: Db, id: string, lookupMaxAttempts: number): Promise<{ retried: number }> {
  return db.transaction(async (tx) => {
    const job = await findJob(tx, id);
    if (!job) throw new AppError("not_found", `No job with id ${id}.`);
    if (job.cancelledAt) throw new AppError("conflict", "This job was cancelled; submit its hashes again instead.");
    const hashes = await reopenFailedTasks(tx, id);
    if (hashes.length > 0) await enqueueLookups(tx, id, lookupMaxAttempts, hashes);
    return { retried: hashes.length };
  });
}
