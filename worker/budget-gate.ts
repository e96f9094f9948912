// Keeps this process from fetching lookups it could not run: graphile-worker's forbiddenFlags recipe.
// The truth (window, counters, pause) lives in Postgres; this only remembers until when the last claim said no.

export const VT_FLAG = "vt";

export function createBudgetGate(now: () => number = Date.now) {
  let closedUntil = 0;
  return {
    /** Passed to graphile-worker: while closed, jobs flagged `vt` are left in the queue, not fetched and put back. */
    forbiddenFlags: (): string[] | null => (now() < closedUntil ? [VT_FLAG] : null),
    closeUntil(until: Date) {
      closedUntil = Math.max(closedUntil, until.getTime());
    },
  };
}

export type BudgetGate = ReturnType<typeof createBudgetGate>;
