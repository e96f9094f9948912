// How a lookup ends: one transaction (one statement, for a final outcome) that checks the lookup still holds its queue
// row (fencing), writes its outcome to every task that waits for the name, deletes its row and, if it must wait,
// queues it again. A lookup whose row was released and taken over (its worker fell silent for too long) writes nothing
// and deletes nothing, but VirusTotal's answer, which is kept whatever happens.
import postgres from "postgres";
import type { Db, Tx } from "@/lib/db/client";
import { releaseLease } from "@/lib/db/queries/leases";
import {
  deleteRow, holdOwnRow, lockKeySpace, requeueLookup, SettleFailedError, settleLookupRow, wakeLeaseWaiters, type RowLock,
} from "@/lib/db/queries/queue";
import { hasPendingTasks, namesEnded, noteTasksWaiting, type TaskEnd } from "@/lib/db/queries/tasks";
import { isConflict, isConnectionLoss, withRetries } from "@/lib/db/retry";
import type { VirusTotalSource } from "@/lib/env";
import { log } from "@/lib/log";
import type { LookupWait } from "@/lib/lookups/job";
import type { ReportSummary } from "@/lib/virustotal";
import { ANSWER_RETRY } from "./save-answer";

export type Outcome =
  /** `raw`: VirusTotal's answer as it came, when this lookup paid for it: the settle stores it first (lookup.ts). */
  | { kind: "completed"; report: ReportSummary; source: VirusTotalSource; fromCache: boolean; raw?: unknown }
  | { kind: "not_found"; fromCache: boolean }
  | { kind: "failed"; reason: string }
  /** No pending task wants the name any more (its jobs were cancelled, or another lookup answered them). */
  | { kind: "unwanted" }
  /** Back in the queue until `until`, as attempt `attempt`; `note` is shown on the waiting tasks. */
  | { kind: "wait"; until: Date; waitingFor: LookupWait; attempt: number; note?: string };

type FinalOutcome = Extract<Outcome, { kind: "completed" | "not_found" | "failed" }>;

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

export interface SettleDeps {
  db: Db;
  budget: string;
}

export async function settle(deps: SettleDeps, run: LookupRun, outcome: Outcome): Promise<void> {
  const onRetry = (error: unknown, attempt: number) => log.warn({ err: error, hash: run.hash, attempt }, "Settling a lookup failed; trying again");
  if (outcome.kind === "wait" || outcome.kind === "unwanted") {
    await withRetries(() => deps.db.transaction((tx) => settleBackToQueue(tx, deps, run, outcome)), { ...SETTLE_RETRY, onRetry });
    return;
  }
  await settleFinal(deps, run, outcome).catch(async (error: unknown) => {
    if (!(error instanceof AnswerRefusedError)) throw error;
    // The store itself failed, and no retry cured it: the tasks fail with the reason, as any answer we cannot use.
    log.error({ err: error.cause, hash: run.hash }, "VirusTotal's answer could not be stored");
    const failed: FinalOutcome = { kind: "failed", reason: "VirusTotal answered, but the answer could not be stored" };
    await settleFinal(deps, run, failed);
  });
}

/** The server refused to store a paid answer, for a reason a retry did not cure (not a lost connection, a cancel). */
class AnswerRefusedError extends Error {
  constructor(readonly cause: unknown) {
    super("VirusTotal's answer could not be stored");
  }
}

/**
 * A final outcome, in one statement and its own transaction (settleLookupRow), tried again while a retry can cure
 * what it met: VirusTotal's answer stored first, if the outcome brought one (tried as long as a store alone would
 * be, and once stored, not sent again); then, only while our row is ours, the tasks of every job that asked, the
 * saved-request count, our row, the lease and whoever waits for it.
 */
async function settleFinal(deps: SettleDeps, run: LookupRun, outcome: FinalOutcome): Promise<void> {
  const end: TaskEnd =
    outcome.kind === "completed"
      ? { status: "completed", report: outcome.report, source: outcome.source }
      : outcome.kind === "not_found"
        ? { status: "not_found" }
        : { status: "failed", reason: outcome.reason };
  const saved = outcome.kind !== "failed" && outcome.fromCache ? 1 : 0;
  let raw = outcome.kind === "completed" ? outcome.raw : undefined;
  // A try that lost its connection may have committed all the same, its answer lost on the way back.
  let lostReply = false;
  const onRetry = (error: unknown, attempt: number) => log.warn({ err: error, hash: run.hash, attempt }, "Settling a lookup failed; trying again");
  await withRetries(async () => {
    try {
      const found = await settleLookupRow(deps.db, run, { names: namesEnded(run.hash, end), end, budget: deps.budget, saved, raw });
      // Nothing of the row and the lease is left, as our own commit left them: it was that one.
      if (found === "gone" && lostReply) return;
      if (found !== "settled") throw new FencedError(run);
    } catch (error) {
      if (isConnectionLoss(error)) lostReply = true;
      // The answer is stored (committed before the settle failed): the tries after this one settle without it.
      if (error instanceof SettleFailedError) raw = undefined;
      else if (raw !== undefined && error instanceof postgres.PostgresError && !isConflict(error) && !isConnectionLoss(error) && error.code !== "57014") {
        throw new AnswerRefusedError(error);
      }
      throw error;
    }
  }, { ...(raw === undefined ? SETTLE_RETRY : ANSWER_RETRY), onRetry });
}

/**
 * A lookup that waits, or that nobody wants any more: it may queue itself again, so it takes the key space's lock
 * first, as enqueueing does (queue.ts), and decides on what it reads under its row's lock.
 */
async function settleBackToQueue(tx: Tx, deps: SettleDeps, run: LookupRun, outcome: Extract<Outcome, { kind: "wait" | "unwanted" }>) {
  const { hash } = run;
  await lockKeySpace(tx, "shared");
  const own = await holdOwnRow(tx, run.lock);
  if (!own) throw new FencedError(run);
  await Promise.all([
    outcome.kind === "wait" && outcome.note && noteTasksWaiting(tx, hash, { error: outcome.note, retryAt: outcome.until }),
    deleteRow(tx, run.lock.jobId),
  ]);
  // Re-read under our row's lock: a job cancelled meanwhile leaves nobody to wait for, and a job created meanwhile
  // (it kept our row, so we waited for its commit) wants the name after all: then it runs again now.
  if (await hasPendingTasks(tx, hash)) {
    const wait = outcome.kind === "wait" ? outcome : { until: new Date(), waitingFor: undefined, attempt: run.attempt };
    await requeueLookup(tx, {
      payload: { hash, attempt: wait.attempt, waitingFor: wait.waitingFor },
      runAt: wait.until,
      priority: own.priority,
      maxAttempts: run.maxAttempts,
    });
  }
  await Promise.all([
    // An unwanted lookup's lease waiters find nobody wanting the name either, and end.
    outcome.kind === "unwanted" && wakeLeaseWaiters(tx, [hash]),
    releaseLease(tx, hash, run.holder),
  ]);
}

/** Gives up the lease of a run that could not settle, and wakes the lookups that wait for it. */
export async function releaseLeaseAndWake(db: Db, run: LookupRun): Promise<void> {
  await db.transaction(async (tx) => {
    await releaseLease(tx, run.hash, run.holder);
    await wakeLeaseWaiters(tx, [run.hash]);
  });
}
