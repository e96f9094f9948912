// One lookup: a file by one of its names. Cache first, then a lease on the name, then the shared budget, then
// VirusTotal. Every outcome is written to the tasks of every job that asked for the file; every write is
// idempotent, so a lookup run twice (a crash, a released lock) changes nothing the second time.
import type { JobHelpers, Task } from "graphile-worker";
import { z } from "zod";
import type { Db } from "@/lib/db/client";
import type { CachePolicy } from "@/lib/db/queries/jobs";
import { releaseLease, takeLease } from "@/lib/db/queries/leases";
import {
  completeTasksForFile,
  failTasks,
  findFreshReport,
  isRecentlyNotFound,
  markTasksNotFound,
  noteTasksWaiting,
  recordNotFound,
  saveReport,
} from "@/lib/db/queries/reports";
import { acquireRequestSlot, countSavedRequests, startPause, type RequestLimits } from "@/lib/db/queries/virustotal-budget";
import type { VirusTotalSource } from "@/lib/env";
import { log } from "@/lib/log";
import { VirusTotalError, type AnyVirusTotalError, type VirusTotalClient } from "@/lib/virustotal";
import { VT_FLAG, type BudgetGate } from "../budget-gate";
import { pauseForBadKey, pauseForQuota, transientRetryDelayMs } from "../pauses";

export const lookupPayloadSchema = z.object({
  hash: z.string().regex(/^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64})$/),
  /** Our own attempt count: waiting for a slot or a pause is not an attempt; a transient failure is. */
  attempt: z.number().int().positive().default(1),
});
export type LookupPayload = z.infer<typeof lookupPayloadSchema>;

export interface LookupDeps {
  db: Db;
  vt: VirusTotalClient;
  source: VirusTotalSource;
  cache: CachePolicy;
  /** Whose quota this worker spends (see requestBudget). */
  budget: string;
  limits: RequestLimits;
  quotaRetrySeconds: number;
  maxAttempts: number;
  /** How long a lease on a name outlives a holder that died mid-request. */
  leaseSeconds: number;
  gate: BudgetGate;
}

// A lookup that finds its name already being asked waits this long, then finds the answer in the cache.
const IN_FLIGHT_RETRY_MS = 2000;

export function createLookupTask(deps: LookupDeps): Task {
  return async (payload, helpers) => {
    const parsed = lookupPayloadSchema.safeParse(payload);
    if (!parsed.success) {
      // Retrying cannot fix a payload: log it once and let the job end.
      helpers.logger.error(`lookup: unusable payload ${JSON.stringify(payload)}: ${parsed.error.message}`);
      return;
    }
    try {
      await lookUp(deps, helpers, parsed.data);
    } catch (error) {
      // Whatever went wrong (the database, a bug), the last attempt still leaves the tasks with an outcome.
      if (helpers.job.attempts >= helpers.job.max_attempts) {
        await failTasks(deps.db, parsed.data.hash, `Gave up after ${helpers.job.attempts} attempts: internal error`);
      }
      throw error;
    }
  };
}

async function lookUp(deps: LookupDeps, helpers: JobHelpers, payload: LookupPayload) {
  const { hash, attempt } = payload;
  const started = Date.now();
  const done = (outcome: string, extra: Record<string, unknown> = {}) =>
    log.info({ event: "lookup", hash, outcome, ms: Date.now() - started, fromCache: false, attempt, ...extra });

  const cached = await findFreshReport(deps.db, hash, deps.cache);
  if (cached) {
    await completeTasksForFile(deps.db, cached);
    await countSavedRequests(deps.db, deps.budget, 1);
    return done("completed", { fromCache: true });
  }
  if (await isRecentlyNotFound(deps.db, hash, deps.cache.sources)) {
    await markTasksNotFound(deps.db, hash);
    await countSavedRequests(deps.db, deps.budget, 1);
    return done("not_found", { fromCache: true });
  }

  // "<pool>/<job>": the pool part lets the reaper free a dead pool's leases at once (queries/leases.ts).
  const holder = `${helpers.job.locked_by}/${helpers.job.id}`;
  if (!(await takeLease(deps.db, hash, holder, deps.leaseSeconds))) {
    await reschedule(helpers, payload, new Date(Date.now() + IN_FLIGHT_RETRY_MS));
    return done("in_flight_elsewhere");
  }
  try {
    const slot = await acquireRequestSlot(deps.db, deps.budget, deps.limits);
    if (!slot.granted) {
      deps.gate.closeUntil(slot.until);
      await reschedule(helpers, payload, slot.until);
      return done("waiting", { until: slot.until.toISOString(), cause: slot.cause });
    }
    let lookup;
    try {
      lookup = await deps.vt.getFile(hash);
    } catch (error) {
      if (!(error instanceof VirusTotalError)) throw error;
      return await handleFailure(deps, helpers, payload, error as AnyVirusTotalError, done);
    }
    await deps.db.transaction(async (tx) => {
      await saveReport(tx, lookup.summary, lookup.raw, deps.source);
      await completeTasksForFile(tx, lookup.summary);
    });
    done("completed", { detected: lookup.summary.detected, engines: lookup.summary.engines });
  } finally {
    await releaseLease(deps.db, hash, holder);
  }
}

async function handleFailure(
  deps: LookupDeps,
  helpers: JobHelpers,
  payload: LookupPayload,
  error: AnyVirusTotalError,
  done: (outcome: string, extra?: Record<string, unknown>) => void,
) {
  const { hash, attempt } = payload;
  switch (error.kind) {
    case "not_found":
      await recordNotFound(deps.db, hash, deps.source);
      await markTasksNotFound(deps.db, hash);
      return done("not_found");
    case "quota":
    case "bad_key": {
      // Nothing calls VirusTotal until the pause ends; this lookup waits for it without spending an attempt.
      const pause = error.kind === "quota" ? await pauseForQuota(deps, error) : pauseForBadKey(error);
      await startPause(deps.db, deps.budget, pause);
      deps.gate.closeUntil(pause.until);
      await reschedule(helpers, payload, pause.until);
      return done("paused", { cause: pause.cause, until: pause.until.toISOString() });
    }
    case "malformed":
      await failTasks(deps.db, hash, error.message);
      return done("failed", { error: error.message });
    case "transient": {
      if (attempt >= deps.maxAttempts) {
        await failTasks(deps.db, hash, `Gave up after ${attempt} attempts: ${error.message}`);
        return done("failed", { error: error.message });
      }
      const retryAt = new Date(Date.now() + transientRetryDelayMs(attempt, error.retryAfterSeconds));
      await noteTasksWaiting(deps.db, hash, { error: `${error.message} (attempt ${attempt} of ${deps.maxAttempts})`, retryAt });
      await reschedule(helpers, { hash, attempt: attempt + 1 }, retryAt);
      return done("retrying", { error: error.message, retryAt: retryAt.toISOString() });
    }
  }
}

/** Re-adding our own key while we run inserts a fresh job for later; returning then ends this one cleanly. */
async function reschedule(helpers: JobHelpers, payload: LookupPayload, runAt: Date) {
  await helpers.addJob("lookup", payload, {
    jobKey: `lookup:${payload.hash}`,
    runAt,
    maxAttempts: helpers.job.max_attempts,
    priority: helpers.job.priority,
    flags: [VT_FLAG],
  });
}
