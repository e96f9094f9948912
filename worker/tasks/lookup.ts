// One lookup: a file by one of its names. Cache first, then the shared budget, then VirusTotal; every outcome is
// written to the tasks of every job that asked for the file, and every write is idempotent.
import type { JobHelpers, Task } from "graphile-worker";
import { z } from "zod";
import type { Db } from "@/lib/db/client";
import type { CachePolicy } from "@/lib/db/queries/jobs";
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
import { acquireRequestSlot, startPause, type RequestLimits } from "@/lib/db/queries/virustotal-budget";
import type { VirusTotalSource } from "@/lib/env";
import { log } from "@/lib/log";
import { VirusTotalError, type VirusTotalClient } from "@/lib/virustotal";
import { VT_FLAG, type BudgetGate } from "../budget-gate";

export const lookupPayloadSchema = z.object({ hash: z.string().regex(/^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64})$/) });
export type LookupPayload = z.infer<typeof lookupPayloadSchema>;

export interface LookupDeps {
  db: Db;
  vt: VirusTotalClient;
  source: VirusTotalSource;
  cache: CachePolicy;
  limits: RequestLimits;
  quotaRetrySeconds: number;
  gate: BudgetGate;
}

export function createLookupTask(deps: LookupDeps): Task {
  return async (payload, helpers) => {
    const parsed = lookupPayloadSchema.safeParse(payload);
    if (!parsed.success) {
      // Retrying cannot fix a payload: log it once and let the job end.
      helpers.logger.error(`lookup: unusable payload ${JSON.stringify(payload)}: ${parsed.error.message}`);
      return;
    }
    const { hash } = parsed.data;
    try {
      await lookUp(deps, helpers, hash);
    } catch (error) {
      // Whatever went wrong (database, a bug), the last attempt must still leave the tasks with an outcome.
      if (helpers.job.attempts >= helpers.job.max_attempts) {
        const reason = error instanceof VirusTotalError ? error.message : "Internal error while looking up this hash";
        await failTasks(deps.db, hash, `Gave up after ${helpers.job.attempts} attempts: ${reason}`);
      }
      throw error;
    }
  };
}

async function lookUp(deps: LookupDeps, helpers: JobHelpers, hash: string) {
  const started = Date.now();
  const done = (outcome: string, extra: Record<string, unknown> = {}) =>
    logLine({ hash, outcome, ms: Date.now() - started, fromCache: false, attempt: helpers.job.attempts, ...extra });

  const cached = await findFreshReport(deps.db, hash, deps.cache);
  if (cached) {
    await completeTasksForFile(deps.db, cached);
    return logLine({ hash, outcome: "completed", ms: Date.now() - started, fromCache: true });
  }
  if (await isRecentlyNotFound(deps.db, hash, deps.cache.sources)) {
    await markTasksNotFound(deps.db, hash);
    return logLine({ hash, outcome: "not_found", ms: Date.now() - started, fromCache: true });
  }

  const slot = await acquireRequestSlot(deps.db, deps.limits);
  if (!slot.granted) {
    deps.gate.closeUntil(slot.until);
    await reschedule(helpers, hash, slot.until);
    if (slot.wait !== "minute") await noteTasksWaiting(deps.db, hash, { error: null, retryAt: slot.until });
    return done("waiting", { until: slot.until.toISOString(), wait: slot.wait });
  }

  let lookup;
  try {
    lookup = await deps.vt.getFile(hash);
  } catch (error) {
    if (!(error instanceof VirusTotalError)) throw error;
    return handleFailure(deps, helpers, hash, error, done);
  }
  await deps.db.transaction(async (tx) => {
    await saveReport(tx, lookup.summary, lookup.raw, deps.source);
    await completeTasksForFile(tx, lookup.summary);
  });
  done("completed", { detected: lookup.summary.detected, engines: lookup.summary.engines });
}

async function handleFailure(
  deps: LookupDeps,
  helpers: JobHelpers,
  hash: string,
  error: VirusTotalError,
  done: (outcome: string, extra?: Record<string, unknown>) => void,
) {
  switch (error.kind) {
    case "not_found":
      await recordNotFound(deps.db, hash, deps.source);
      await markTasksNotFound(deps.db, hash);
      return done("not_found");
    case "quota": {
      // Nothing calls VirusTotal until the pause ends; this lookup waits for it without spending an attempt.
      const until = new Date(Date.now() + deps.quotaRetrySeconds * 1000);
      await startPause(deps.db, until, `VirusTotal quota exceeded (${error.code ?? "HTTP 429"})`);
      deps.gate.closeUntil(until);
      await reschedule(helpers, hash, until);
      return done("quota_exceeded", { until: until.toISOString() });
    }
    case "bad_key":
    case "malformed":
      await failTasks(deps.db, hash, error.message);
      return done("failed", { error: error.message });
    case "transient": {
      if (helpers.job.attempts >= helpers.job.max_attempts) {
        done("failed", { error: error.message });
        throw error; // the task fails it with the reason, above
      }
      // graphile-worker retries after exp(min(attempts, 10)) seconds; show the user roughly when.
      const retryAt = new Date(Date.now() + Math.exp(Math.min(helpers.job.attempts, 10)) * 1000);
      await noteTasksWaiting(deps.db, hash, { error: `${error.message} (retrying)`, retryAt });
      done("retrying", { error: error.message });
      throw error;
    }
  }
}

/** Re-adding our own key while we run inserts a fresh job for later; returning then ends this one cleanly. */
async function reschedule(helpers: JobHelpers, hash: string, runAt: Date) {
  await helpers.addJob("lookup", { hash } satisfies LookupPayload, {
    jobKey: `lookup:${hash}`,
    runAt,
    maxAttempts: helpers.job.max_attempts,
    priority: helpers.job.priority,
    flags: [VT_FLAG],
  });
}

/** One structured line per lookup; the API key never reaches a log. */
function logLine(fields: Record<string, unknown>) {
  log.info({ event: "lookup", ...fields });
}
