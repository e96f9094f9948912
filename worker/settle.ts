// How a lookup ends: one transaction that checks the lookup still holds its queue row (fencing), writes its
// outcome to every task that waits for the name, deletes its row and, if it must wait, queues it again. A lookup
// whose row was released and taken over (its worker fell silent for too long) writes nothing and deletes nothing.
import type { Db } from "@/lib/db/client";
import { countSavedRequests } from "@/lib/db/queries/budget";
import { releaseLease } from "@/lib/db/queries/leases";
import { deleteRow, holdOwnRow, lockKeySpace, requeueLookup, wakeLeaseWaiters, type RowLock } from "@/lib/db/queries/queue";
import { completeTasksForFile, failTasks, hasPendingTasks, markTasksNotFound, noteTasksWaiting } from "@/lib/db/queries/tasks";
import { isConflict, isConnectionLoss, withRetries } from "@/lib/db/retry";
import type { VirusTotalSource } from "@/lib/env";
import { log } from "@/lib/log";
import type { LookupWait } from "@/lib/lookups/job";
import type { ReportSummary } from "@/lib/virustotal";

export type Outcome =
  | { kind: "completed"; report: ReportSummary; source: VirusTotalSource; fromCache: boolean }
  | { kind: "not_found"; fromCache: boolean }
  | { kind: "failed"; reason: string }
  /** No pending task wants the name any more (its jobs were cancelled, or another lookup answered them). */
  | { kind: "unwanted" }
  /** Back in the queue until `until`, as attempt `attempt`; `note` is shown on the waiting tasks. */
  | { kind: "wait"; until: Date; waitingFor: LookupWait; attempt: number; note?: string };

/** One run of a lookup: its name, its hold on the queue row, and its lease's holder id. */
export interface LookupRun {
  hash: string;
  lock: RowLock;
  holder: string;
  /** This run's attempt number: waits do not count, failures and runs lost with their worker do. */
  attempt: number;
  maxAttempts: number;
}

/**
 * Only the reaper releases a running lookup's row, and only when it found the pool silent: a fenced run means this
 * pool was declared dead, and it must stop (graphile-worker's failure update matches the pool, not the run, so
 * throwing could unlock a newer run of the same job in this very pool).
 */
export class FencedError extends Error {
  constructor(run: LookupRun) {
    super(`lookup ${run.hash}: queue job ${run.lock.jobId} was taken over while it ran; its outcome was not written`);
    this.name = "FencedError";
  }
}

/** Database trouble a moment later may not have: a lost connection, a deadlock. */
export const SETTLE_RETRY = { tries: 6, baseDelayMs: 250, maxDelayMs: 8000, retryIf: (e: unknown) => isConflict(e) || isConnectionLoss(e) };

export async function settle(deps: { db: Db; budget: string }, run: LookupRun, outcome: Outcome): Promise<void> {
  const { hash } = run;
  await withRetries(
    () =>
      deps.db.transaction(async (tx) => {
        // A lookup that may queue itself again takes the key space's lock first, as enqueueing does (queue.ts).
        if (outcome.kind === "wait" || outcome.kind === "unwanted") await lockKeySpace(tx, "shared");
        const own = await holdOwnRow(tx, run.lock);
        if (!own) throw new FencedError(run);
        // The writes that follow the fencing check are sent together (pipelined: one write to the socket, one round
        // trip); Postgres runs them one after the other, and one failing fails the transaction. Not necessarily in
        // this order (a Drizzle query, noteTasksWaiting, reaches the socket after prepared ones pushed after it), and
        // nothing relies on it: each writes rows of its own, and our queue row is locked already.
        const writes: Promise<unknown>[] = [];
        switch (outcome.kind) {
          case "completed":
            writes.push(completeTasksForFile(tx, outcome.report, outcome.source));
            break;
          case "not_found":
            writes.push(markTasksNotFound(tx, hash));
            break;
          case "failed":
            writes.push(failTasks(tx, hash, outcome.reason));
            break;
          case "wait":
            if (outcome.note) writes.push(noteTasksWaiting(tx, hash, { error: outcome.note, retryAt: outcome.until }));
            break;
          case "unwanted":
            break;
        }
        if ((outcome.kind === "completed" || outcome.kind === "not_found") && outcome.fromCache) {
          writes.push(countSavedRequests(tx, deps.budget, 1));
        }
        writes.push(deleteRow(tx, run.lock.jobId));
        await Promise.all(writes);
        if (outcome.kind === "wait" || outcome.kind === "unwanted") {
          // Re-read under our row's lock: a job cancelled meanwhile leaves nobody to wait for, and a job created
          // meanwhile (it kept our row, so we waited for its commit) wants the name after all: then it runs again now.
          if (await hasPendingTasks(tx, hash)) {
            const wait = outcome.kind === "wait" ? outcome : { until: new Date(), waitingFor: undefined, attempt: run.attempt };
            await requeueLookup(tx, {
              payload: { hash, attempt: wait.attempt, waitingFor: wait.waitingFor },
              runAt: wait.until,
              priority: own.priority,
              maxAttempts: run.maxAttempts,
            });
          }
        }
        await Promise.all([
          // Lookups of the same name that waited for our lease find the answer now.
          outcome.kind !== "wait" && wakeLeaseWaiters(tx, [hash]),
          releaseLease(tx, hash, run.holder),
        ]);
      }),
    { ...SETTLE_RETRY, onRetry: (error, attempt) => log.warn({ err: error, hash, attempt }, "Settling a lookup failed; trying again") },
  );
}

/** Gives up the lease of a run that could not settle, and wakes the lookups that wait for it. */
export async function releaseLeaseAndWake(db: Db, run: LookupRun): Promise<void> {
  await db.transaction(async (tx) => {
    await releaseLease(tx, run.hash, run.holder);
    await wakeLeaseWaiters(tx, [run.hash]);
  });
}
