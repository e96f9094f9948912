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
  saveReport,
} from "@/lib/db/queries/reports";
import { acquireRequestSlot, countSavedRequests, type RequestLimits } from "@/lib/db/queries/virustotal-budget";
import type { VirusTotalSource } from "@/lib/env";
import { log } from "@/lib/log";
import { VirusTotalError, type AnyVirusTotalError, type VirusTotalClient } from "@/lib/virustotal";
import type { BudgetGate } from "../budget-gate";
import { handleFailure, reschedule } from "../lookup-outcomes";

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

  const fromCache = await answerFromCache(deps, hash);
  if (fromCache) return done(fromCache, { fromCache: true });

  // "<pool>/<job>": the pool part lets the reaper free a dead pool's leases at once (queries/leases.ts).
  const holder = `${helpers.job.locked_by}/${helpers.job.id}`;
  if (!(await takeLease(deps.db, hash, holder, deps.leaseSeconds))) {
    await reschedule(helpers, payload, new Date(Date.now() + IN_FLIGHT_RETRY_MS));
    return done("in_flight_elsewhere");
  }
  try {
    // The lease's previous holder may have stored the answer between our first look and taking the lease.
    const answered = await answerFromCache(deps, hash);
    if (answered) return done(answered, { fromCache: true });
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

/** Completes the name's tasks from a fresh report (any of the file's names) or a recent "not found", if any. */
async function answerFromCache(deps: LookupDeps, hash: string): Promise<"completed" | "not_found" | null> {
  const cached = await findFreshReport(deps.db, hash, deps.cache);
  if (cached) await completeTasksForFile(deps.db, cached);
  else if (await isRecentlyNotFound(deps.db, hash, deps.cache.sources)) await markTasksNotFound(deps.db, hash);
  else return null;
  await countSavedRequests(deps.db, deps.budget, 1);
  return cached ? "completed" : "not_found";
}
