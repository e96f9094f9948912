// Keeps this process from fetching lookups it could not run: graphile-worker's forbiddenFlags recipe.
// The truth (window, counters, pause) lives in Postgres; the gate remembers until when the last claim said no, and
// while it believes a pause is on it looks again every few seconds, so that a pause lifted or shortened by another
// process (a worker restarted with a new key) reopens this one within seconds, at the cost of one indexed read.
// Closed for the window, it still lets through the lookups the window handed a wake time (VT_WAKE_FLAG): each
// comes back for a slot that frees at its time, and holding it past that leaves the slot empty. A pause holds all.
import type { Executor } from "@/lib/db/client";
import { getActivePause } from "@/lib/db/queries/budget";
import { VT_FLAG, VT_WAKE_FLAG } from "@/lib/lookups/job";

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
    return forbidden(now());
  }

  function forbidden(t: number): string[] | null {
    if (t < pausedUntil) return [VT_FLAG, VT_WAKE_FLAG];
    if (t < waitUntil) return [VT_FLAG];
    return null;
  }

  return {
    /** Passed to graphile-worker: the flags of jobs it leaves in the queue for now, rather than fetch and put back. */
    forbiddenFlags(): string[] | null | Promise<string[] | null> {
      const t = now();
      if (pausedUntil > t && t - checkedAt >= recheckMs) return recheck();
      return forbidden(t);
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
