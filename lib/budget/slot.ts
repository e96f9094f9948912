// Claiming one VirusTotal request from the budget shared by every worker process, on any host, through Postgres:
// a sliding per-minute window, UTC-day and UTC-month counters, the pause, and the order in which lookups turned
// away by the window come back. Every claim on a budget holds its advisory lock, so two processes can never both
// take the last slot; every time it checks or records is the time after that lock. A lookup's first claim is made by
// its first statement, which commits at once (lookAndClaim, lib/db/queries/lookup-start.ts); the claim here, for a
// lookup that claim turned away, holds the lock while it decides when to come back.
import type { Db } from "@/lib/db/client";
import { claimRequest, firstRequestAfter, setWakeCursor, startPause, type BudgetState } from "@/lib/db/queries/budget";
import type { PauseCause } from "@/lib/db/schema";
import { effectiveWindowMs, type RequestLimits } from "./limits";
import type { Pause } from "./pauses";

export type Slot = { granted: true } | { granted: false; until: Date; cause: PauseCause | "window"; reason: string };

export type SlotDecision =
  | { kind: "grant" }
  | { kind: "pause"; pause: Pause }
  /** `cursorUs`: the wake cursor's new place (epoch µs, exact); null leaves it where it is. */
  | { kind: "wait"; until: Date; cursorUs: number | null };

/**
 * Where to look for the slot that frees next after the wake cursor, the last wake time handed out: after the
 * request `afterUs` (epoch µs), `laps` windows on. The window's slots free when its requests leave it, and each is
 * taken again about then, so past the requests on record the same times come round once a window (a lap).
 */
export interface DepartureProbe {
  afterUs: number;
  laps: number;
}

/** What the probe found: the time of the first request after `afterUs` (epoch µs), null when none. */
export type Departure = DepartureProbe & { firstUs: number | null };

/**
 * Claims one request, or says when to come back. A lookup turned away by a full window is handed the moment the
 * next slot frees after the last wake handed out (a cursor per budget): one lookup for each request leaving the
 * window, at the time it leaves, so that slots freeing together are taken again together, and no departure is
 * handed out twice (the cursor only moves on). `calledBack`: this lookup comes back at the wake time it was
 * handed; turned away again (a newcomer took the slot that freed), it is first in line for the next one rather
 * than sent behind everyone again.
 */
export async function acquireRequestSlot(db: Db, budget: string, limits: RequestLimits, calledBack = false): Promise<Slot> {
  return db.transaction(async (tx) => {
    const claim = await claimRequest(tx, budget, limits, effectiveWindowMs(limits));
    if (claim.granted) return { granted: true };
    const { pause } = claim;
    if (pause) return { granted: false, until: pause.until, cause: pause.cause, reason: pause.reason };

    // Still under the lock, so no request is recorded between the claim's state and the probe.
    const probe = calledBack ? null : departureProbe(claim.state, limits);
    const departure = probe && { ...probe, firstUs: await firstRequestAfter(tx, budget, probe.afterUs) };
    const decision = decideSlot(claim.state, limits, calledBack, departure);
    switch (decision.kind) {
      case "grant":
        // claimRequest records exactly the requests decideSlot grants: a free one never reaches here.
        throw new Error(`budget ${budget}: the claim and decideSlot disagree on a free request`);
      case "pause":
        await startPause(tx, budget, decision.pause);
        return { granted: false, ...decision.pause };
      case "wait":
        if (decision.cursorUs !== null) await setWakeCursor(tx, budget, decision.cursorUs);
        return { granted: false, until: decision.until, cause: "window", reason: `${limits.perMinute} requests per ${limits.windowSeconds} s` };
    }
  });
}

/** A time the claim read as epoch milliseconds (float8, from microseconds), back to its exact microseconds. */
const toUs = (ms: number) => Math.round(ms * 1000);

/**
 * Where the slot after the wake cursor is to be looked for (DepartureProbe); null when the cursor is not past the
 * first slot to free (or none is ahead, or the window is not full): that slot, windowFreeAt, is the answer.
 */
export function departureProbe(state: BudgetState, limits: RequestLimits): DepartureProbe | null {
  if (state.wakeCursor === null || state.windowFreeAt === null) return null;
  const windowUs = toUs(effectiveWindowMs(limits));
  // The window's requests, from the one that frees the first slot (windowFreeAt − the window) on, free a slot each
  // within one window of it; a cursor later than that is so many laps on.
  const firstFreeUs = toUs(state.windowFreeAt);
  const cursorUs = toUs(state.wakeCursor);
  if (cursorUs < firstFreeUs) return null;
  const laps = Math.floor((cursorUs - firstFreeUs) / windowUs);
  return { afterUs: cursorUs - (laps + 1) * windowUs, laps };
}

/**
 * The claim's rules, on the state read under the lock. `departure`: departureProbe's answer, for a lookup the
 * window turns away that was not called back.
 */
export function decideSlot(state: BudgetState, limits: RequestLimits, calledBack = false, departure: Departure | null = null): SlotDecision {
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
  // Full: when the next slot frees, or, past the cursor, when the one after it does. (Wake times handed to lookups
  // since cancelled keep the cursor ahead for a while: a slot freeing at such a time goes to whoever asks.)
  const firstFreeUs = toUs(state.windowFreeAt!);
  if (calledBack) return { kind: "wait", until: wakeTime(firstFreeUs), cursorUs: null };
  let untilUs = firstFreeUs;
  if (departure) {
    const windowUs = toUs(effectiveWindowMs(limits));
    // The slot of the first request after the probe's start frees a window after it; with none, every slot on
    // record frees by the cursor, and the next is the first one's again, a lap later.
    const freesUs = departure.firstUs !== null ? departure.firstUs + windowUs : firstFreeUs + windowUs;
    untilUs = Math.max(firstFreeUs, freesUs + departure.laps * windowUs);
  }
  return { kind: "wait", until: wakeTime(untilUs), cursorUs: untilUs };
}

/** The lookup's wake time: rounded up to the millisecond, never before its slot frees. */
const wakeTime = (us: number) => new Date(Math.ceil(us / 1000));
