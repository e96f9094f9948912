// Getting a request slot for a lookup that holds its name's lease. Turned away by the window, it is handed a wake
// time (when the next slot frees after those already handed out) and sleeps until then when that is soon, holding
// on to its lease; later than that, or when the worker stops, it goes back to the queue until its wake time.
import { setTimeout as sleep } from "node:timers/promises";
import type { JobHelpers } from "graphile-worker";
import { effectiveWindowMs } from "@/lib/budget/limits";
import { acquireRequestSlot } from "@/lib/budget/slot";
import { takeLease } from "@/lib/db/queries/leases";
import { hasPendingTasks } from "@/lib/db/queries/tasks";
import type { LookupPayload } from "@/lib/lookups/job";
import type { LookupRun, Outcome } from "./settle";
import type { LookupDeps } from "./tasks/lookup";

/** Null once a slot is ours; otherwise the wait to settle. */
export async function waitForSlot(deps: LookupDeps, helpers: JobHelpers, run: LookupRun, payload: LookupPayload): Promise<Outcome | null> {
  // Waiting is not an attempt: the lookup comes back as the same attempt it is now.
  const windowWait = (until: Date): Outcome => ({ kind: "wait", until, waitingFor: { for: "window", budget: deps.budget }, attempt: run.attempt });
  // Sleeping holds the lease, so never for longer than half of it (it is renewed after each sleep).
  const maxSleepMs = Math.min(effectiveWindowMs(deps.limits), (deps.leaseSeconds * 1000) / 2);
  // A lookup the window sent back to the queue comes back at the wake time it was handed.
  let calledBack = payload.waitingFor?.for === "window";
  for (;;) {
    const slot = await acquireRequestSlot(deps.db, deps.budget, deps.limits, calledBack);
    if (slot.granted) return null;
    if (slot.cause !== "window") {
      deps.gate.closeForPause(slot.until);
      return { kind: "wait", until: slot.until, waitingFor: { for: "pause", budget: deps.budget, cause: slot.cause }, attempt: run.attempt };
    }
    const delay = slot.until.getTime() - Date.now();
    if (delay > maxSleepMs || helpers.abortSignal.aborted) {
      // Fetching more lookups now would only hand out later wake times: stop until sleeping is worth it again.
      deps.gate.closeForWindow(new Date(slot.until.getTime() - maxSleepMs));
      return windowWait(slot.until);
    }
    try {
      await sleep(Math.max(0, delay), undefined, { signal: helpers.abortSignal });
    } catch {
      // The worker is stopping: back to the queue, keeping the wake time.
      return windowWait(slot.until);
    }
    calledBack = true;
    // The job may have been cancelled while we slept: then nobody needs the request.
    if (!(await hasPendingTasks(deps.db, run.hash))) return { kind: "unwanted" };
    const lease = await takeLease(deps.db, run.hash, run.holder, deps.leaseSeconds);
    if (!lease.taken) return { kind: "wait", until: lease.expiresAt, waitingFor: { for: "lease" }, attempt: run.attempt };
  }
}
