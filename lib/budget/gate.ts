// Keeps this process from fetching lookups it could not run: graphile-worker's forbiddenFlags recipe.
// The truth (window, counters, pause) lives in Postgres; the gate remembers until when the last claim said no, and
// while it believes a pause is on it looks again every few seconds, so that a pause lifted or shortened by another
// process (a worker restarted with a new key) reopens this one within seconds, at the cost of one indexed read.
import type { Executor } from "@/lib/db/client";
import { getActivePause } from "@/lib/db/queries/budget";
import { VT_FLAG } from "@/lib/lookups/job";

export const GATE_RECHECK_MS = 2000;

export function createBudgetGate(options: { db: Executor; budget: string; now?: () => number; recheckMs?: number }) {
  const now = options.now ?? Date.now;
  const recheckMs = options.recheckMs ?? GATE_RECHECK_MS;
  let pausedUntil = 0;
  let waitUntil = 0;
  let checkedAt = 0;

  async function recheck(): Promise<string[] | null> {
    checkedAt = now();
    try {
      const pause = await getActivePause(options.db, options.budget);
      pausedUntil = pause ? pause.until.getTime() : 0;
    } catch {
      // The database is unreachable: stay closed, as remembered; the next poll looks again.
    }
    return now() < Math.max(pausedUntil, waitUntil) ? [VT_FLAG] : null;
  }

  return {
    /** Passed to graphile-worker: while closed, jobs flagged `vt` are left in the queue, not fetched and put back. */
    forbiddenFlags(): string[] | null | Promise<string[] | null> {
      const t = now();
      if (t >= Math.max(pausedUntil, waitUntil)) return null;
      if (pausedUntil > t && t - checkedAt >= recheckMs) return recheck();
      return [VT_FLAG];
    },
    /** A pause of the budget: closed until it ends, or until a recheck finds it lifted. */
    closeForPause(until: Date) {
      pausedUntil = Math.max(pausedUntil, until.getTime());
      checkedAt = now();
    },
    /** Lookups would only be turned away by the window before this time. */
    closeForWindow(until: Date) {
      waitUntil = Math.max(waitUntil, until.getTime());
    },
  };
}

export type BudgetGate = ReturnType<typeof createBudgetGate>;
