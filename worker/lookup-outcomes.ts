// What a lookup does with VirusTotal's refusals, and how it puts itself back in the queue for later.
import type { JobHelpers } from "graphile-worker";
import { failTasks, markTasksNotFound, noteTasksWaiting, recordNotFound } from "@/lib/db/queries/reports";
import { startPause } from "@/lib/db/queries/virustotal-budget";
import type { AnyVirusTotalError } from "@/lib/virustotal";
import { VT_FLAG } from "./budget-gate";
import { pauseForBadKey, pauseForQuota, transientRetryDelayMs } from "./pauses";
import type { LookupDeps, LookupPayload } from "./tasks/lookup";

export async function handleFailure(
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
export async function reschedule(helpers: JobHelpers, payload: LookupPayload, runAt: Date) {
  await helpers.addJob("lookup", payload, {
    jobKey: `lookup:${payload.hash}`,
    runAt,
    maxAttempts: helpers.job.max_attempts,
    priority: helpers.job.priority,
    flags: [VT_FLAG],
  });
}
