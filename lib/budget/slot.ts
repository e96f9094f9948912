// Claiming one VirusTotal request from the budget shared by every worker process, on any host, through Postgres:
// a sliding per-minute window, UTC-day and UTC-month counters, the pause, and the order in which lookups turned
// away by the window come back. Every claim on a budget holds its advisory lock, so two processes can never both
// take the last slot; every time it checks or records is the time after that lock. A lookup's first claim is made by
// its first statement, which commits at once (lookOrLease, lib/db/queries/lookup-start.ts); the claim here, for a
// lookup that claim turned away, holds the lock while it decides when to come back.
import type { Db } from "@/lib/db/client";
import { claimRequest, setWakeCursor, startPause, type BudgetState } from "@/lib/db/queries/budget";
import type { PauseCause } from "@/lib/db/schema";
import { effectiveWindowMs, slotIntervalMs, type RequestLimits } from "./limits";
import type { Pause } from "./pauses";

export type Slot = { granted: true } | { granted: false; until: Date; cause: PauseCause | "window"; reason: string };

export type SlotDecision = { kind: "grant" } | { kind: "pause"; pause: Pause } | { kind: "wait"; until: Date; moveCursor: boolean };

/**
 * Claims one request, or says when to come back. Lookups turned away by a full window are handed wake times one
 * slot interval apart (a cursor per budget), so that they come back one by one as slots free, never all at once.
 * `calledBack`: this lookup comes back at the wake time it was handed; turned away again (a newcomer took the slot
 * that freed), it is first in line for the next one rather than sent behind everyone again.
 */
export async function acquireRequestSlot(db: Db, budget: string, limits: RequestLimits, calledBack = false): Promise<Slot> {
  return db.transaction(async (tx) => {
    const claim = await claimRequest(tx, budget, limits, effectiveWindowMs(limits));
    if (claim.granted) return { granted: true };
    const { pause } = claim;
    if (pause) return { granted: false, until: pause.until, cause: pause.cause, reason: pause.reason };

    const decision = decideSlot(claim.state, limits, calledBack);
    switch (decision.kind) {
      case "grant":
        // claimRequest records exactly the requests decideSlot grants: a free one never reaches here.
        throw new Error(`budget ${budget}: the claim and decideSlot disagree on a free request`);
      case "pause":
        await startPause(tx, budget, decision.pause);
        return { granted: false, ...decision.pause };
      case "wait":
        if (decision.moveCursor) await setWakeCursor(tx, budget, decision.until);
        return { granted: false, until: decision.until, cause: "window", reason: `${limits.perMinute} requests per ${limits.windowSeconds} s` };
    }
  });
}

/** The claim's rules, on the state read under the lock. */
export function decideSlot(state: BudgetState, limits: RequestLimits, calledBack = false): SlotDecision {
  // Our own counters say the day's or month's quota is spent: a pause everyone can see, until the reset.
  if (state.month >= limits.perMonth) {
    const reason = `the monthly limit of ${limits.perMonth} VirusTotal requests is used up`;
    return { kind: "pause", pause: { until: new Date(state.nextMonth), cause: "monthly_limit", reason } };
  }
  if (state.day >= limits.perDay) {
    const reason = `the daily limit of ${limits.perDay} VirusTotal requests is used up`;
    return { kind: "pause", pause: { until: new Date(state.nextDay), cause: "daily_limit", reason } };
  }
  // A free slot is taken by whoever asks: a slot left for a waiter that comes late would be a request lost.
  if (state.inWindow < limits.perMinute) return { kind: "grant" };
  // Full: when the next slot frees, or one slot interval after the last lookup already told to come back. (Wake
  // times handed to lookups since cancelled keep the cursor ahead for a while: at most one interval per lookup
  // that was waiting, and a slot that frees meanwhile still goes to whoever asks.)
  if (calledBack) return { kind: "wait", until: new Date(state.windowFreeAt!), moveCursor: false };
  const until = Math.max(state.windowFreeAt!, (state.wakeCursor ?? -Infinity) + slotIntervalMs(limits));
  return { kind: "wait", until: new Date(until), moveCursor: true };
}
