import { describe, expect, it } from "vitest";
import type { BudgetState } from "@/lib/db/queries/budget";
import { decideSlot, departureProbe, type Departure } from "./slot";

// A window of 3 requests per 60 s, claimed against 61 s (the margin).
const limits = { perMinute: 3, perDay: 1000, perMonth: 10_000, windowSeconds: 60 };
const WINDOW_US = 61_000_000;
// Epoch microseconds with a fraction of a millisecond, as Postgres records requests.
const T = 1_796_683_328_031_123;
// The window's three requests, the last two a burst within 5 ms of each other.
const requests = [T, T + 20_000_017, T + 20_004_001];

const ms = (us: number) => us / 1000;
const fullWindow = (wakeCursorUs: number | null): BudgetState => ({
  inWindow: 3,
  windowFreeAt: ms(requests[0] + WINDOW_US),
  day: 3,
  month: 3,
  nextDay: 0,
  nextMonth: 0,
  wakeCursor: wakeCursorUs === null ? null : ms(wakeCursorUs),
});

/** The probe answered as vt_requests would, from `requests`. */
function probed(state: BudgetState): Departure | null {
  const probe = departureProbe(state, limits);
  return probe && { ...probe, firstUs: requests.find((at) => at > probe.afterUs) ?? null };
}

/** The wake times handed to `n` newcomers in turn, each moving the cursor as acquireRequestSlot writes it. */
function wakes(n: number, cursorUs: number | null = null): number[] {
  const handed: number[] = [];
  for (let i = 0; i < n; i++) {
    const state = fullWindow(cursorUs);
    const decision = decideSlot(state, limits, false, probed(state));
    if (decision.kind !== "wait" || decision.cursorUs === null) throw new Error(`expected a wait that moves the cursor, got ${JSON.stringify(decision)}`);
    handed.push(decision.cursorUs);
    cursorUs = decision.cursorUs;
  }
  return handed;
}

describe("decideSlot with the window full", () => {
  it("hands newcomers the times the window's requests leave it, one each, bursts as bursts", () => {
    expect(wakes(3)).toEqual(requests.map((at) => at + WINDOW_US));
  });

  it("goes round a lap once every request on record is handed out, and on for cursors laps ahead", () => {
    const lap = requests.map((at) => at + WINDOW_US);
    expect(wakes(8)).toEqual([...lap, ...lap.map((at) => at + WINDOW_US), ...lap.slice(0, 2).map((at) => at + 2 * WINDOW_US)]);
  });

  it("starts after the cursor, not at it: a cursor on a departure to the microsecond gets the next one", () => {
    expect(wakes(1, requests[1] + WINDOW_US)).toEqual([requests[2] + WINDOW_US]);
    // Between two departures: the later one.
    expect(wakes(1, requests[1] + WINDOW_US - 1)).toEqual([requests[1] + WINDOW_US]);
  });

  it("hands the first slot to free when no cursor is ahead, without a probe", () => {
    expect(departureProbe(fullWindow(null), limits)).toBeNull();
    expect(departureProbe(fullWindow(requests[0]), limits)).toBeNull();
    expect(wakes(1)).toEqual([requests[0] + WINDOW_US]);
  });

  it("wakes a lookup no sooner than its slot frees, rounding up to the millisecond", () => {
    const decision = decideSlot(fullWindow(null), limits, false, null);
    expect(decision).toMatchObject({ kind: "wait", until: new Date(Math.ceil((requests[0] + WINDOW_US) / 1000)) });
  });

  it("sends a lookup called back to the first slot to free, leaving the cursor where it is", () => {
    const state = fullWindow(requests[2] + 5 * WINDOW_US);
    expect(decideSlot(state, limits, true)).toEqual({ kind: "wait", until: new Date(Math.ceil((requests[0] + WINDOW_US) / 1000)), cursorUs: null });
  });

  it("grants a free slot and pauses for a spent day before any of that", () => {
    expect(decideSlot({ ...fullWindow(null), inWindow: 2 }, limits)).toEqual({ kind: "grant" });
    expect(decideSlot({ ...fullWindow(null), day: 1000, nextDay: 86_400_000 }, limits)).toMatchObject({ kind: "pause", pause: { cause: "daily_limit" } });
  });
});
