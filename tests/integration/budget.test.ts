// The shared request budget, straight against Postgres: the sliding window, the day's limit, the pause, and
// budgets that do not touch each other (the simulator's requests never spend a real key's quota).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acquireRequestSlot } from "../../lib/budget/slot";
import { getActivePause, readUsage, startPause } from "../../lib/db/queries/budget";
import { createTestDatabase, type TestDatabase } from "./helpers/test-database";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase("budget");
});
afterAll(async () => t?.drop());

const limits = { perMinute: 3, perDay: 5, perMonth: 100, windowSeconds: 60 };
/** The window a claim is checked against: 60 s and the second of margin. */
const WINDOW_US = 61_000_000;

/** The budget's requests, in epoch microseconds, oldest first. */
const requestTimesUs = async (budget: string) =>
  (await t.sql<{ us: string }[]>`
    select (extract(epoch from at) * 1000000)::bigint::text as us from vt_requests where budget = ${budget} order by at`).map((row) => Number(row.us));

describe("acquireRequestSlot", () => {
  it("grants the window's slots, then hands the turned-away lookups the times those requests leave the window, one each", async () => {
    const slots = await Promise.all(Array.from({ length: 8 }, () => acquireRequestSlot(t.db, "vt:a", limits)));
    expect(slots.filter((slot) => slot.granted)).toHaveLength(3);
    const wakes = slots.flatMap((slot) => (slot.granted ? [] : [slot]));
    expect(wakes.every((slot) => slot.cause === "window")).toBe(true);
    const times = wakes.map((slot) => slot.until.getTime()).sort((a, b) => a - b);
    // The first: when the oldest of the three leaves the 60 s window (plus a second of margin), about 61 s from now.
    expect(times[0] - Date.now()).toBeGreaterThan(59_000);
    expect(times[0] - Date.now()).toBeLessThanOrEqual(61_000);
    // Each request's departure (61 s after it), to the millisecond rounded up; past the three, the same a lap later.
    const granted = await requestTimesUs("vt:a");
    const leaves = (us: number, laps = 1) => Math.ceil((us + laps * WINDOW_US) / 1000);
    expect(times).toEqual([...granted.map((us) => leaves(us)), leaves(granted[0], 2), leaves(granted[1], 2)]);
    expect(await readUsage(t.db, "vt:a", 60)).toMatchObject({ lastMinute: 3, today: 3, thisMonth: 3 });
  });

  it("puts a lookup that comes back at its wake time and still finds no room first in line, not behind everyone", async () => {
    const newcomer = await acquireRequestSlot(t.db, "vt:a", limits);
    const calledBack = await acquireRequestSlot(t.db, "vt:a", limits, true);
    const after = await acquireRequestSlot(t.db, "vt:a", limits);
    if (newcomer.granted || calledBack.granted || after.granted) throw new Error("the window should still be full");
    // The newcomer goes behind the five waiting from the test above (the third request's second lap); the one called
    // back waits only for the next free slot, and takes no place in the line (the next newcomer gets the departure
    // after the first newcomer's).
    const granted = await requestTimesUs("vt:a");
    expect(newcomer.until.getTime()).toBe(Math.ceil((granted[2] + 2 * WINDOW_US) / 1000));
    expect(calledBack.until.getTime()).toBe(Math.ceil((granted[0] + WINDOW_US) / 1000));
    expect(after.until.getTime()).toBe(Math.ceil((granted[0] + 3 * WINDOW_US) / 1000));
  });

  it("keeps budgets apart", async () => {
    expect(await acquireRequestSlot(t.db, "simulator", limits)).toEqual({ granted: true });
    expect(await readUsage(t.db, "simulator", 60)).toMatchObject({ today: 1 });
    expect(await readUsage(t.db, "vt:a", 60)).toMatchObject({ today: 3 });
  });

  it("pauses the budget until the next UTC day when its daily limit is spent", async () => {
    const daily = { ...limits, perMinute: 100 };
    for (let i = 0; i < 5; i++) expect(await acquireRequestSlot(t.db, "vt:c", daily)).toEqual({ granted: true });
    const slot = await acquireRequestSlot(t.db, "vt:c", daily);
    const midnight = new Date();
    midnight.setUTCHours(24, 0, 0, 0);
    expect(slot).toEqual({ granted: false, cause: "daily_limit", until: midnight, reason: "the daily limit of 5 VirusTotal requests is used up" });
    expect(await getActivePause(t.db, "vt:c")).toMatchObject({ cause: "daily_limit", until: midnight });
    expect(await getActivePause(t.db, "simulator")).toBeNull();
  });

  it("grants nothing during a pause, and keeps the later end when two pauses overlap", async () => {
    const soon = new Date(Date.now() + 60_000);
    const later = new Date(Date.now() + 120_000);
    await startPause(t.db, "vt:b", { until: later, cause: "quota", reason: "r1" });
    await startPause(t.db, "vt:b", { until: soon, cause: "per_minute", reason: "r2" });
    expect(await getActivePause(t.db, "vt:b")).toMatchObject({ until: later, cause: "quota" });
    expect(await acquireRequestSlot(t.db, "vt:b", limits)).toMatchObject({ granted: false, cause: "quota", until: later });
  });
});

describe("the window's count (vt_window)", () => {
  const perMinute = { ...limits, perDay: 1000 };
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const kept = async (budget: string) => (await t.sql<{ count: number }[]>`select count from vt_window where budget = ${budget}`)[0]?.count ?? null;

  it("follows the requests as they leave the window, and counts the window whole again after a request recorded another way", async () => {
    // Two requests about to leave the 61 s window.
    await t.sql`insert into vt_requests (budget, at) select 'vt:w', now() - interval '60.6 seconds' from generate_series(1, 2)`;
    expect(await acquireRequestSlot(t.db, "vt:w", perMinute)).toEqual({ granted: true });
    expect(await kept("vt:w")).toBe(3);
    expect(await acquireRequestSlot(t.db, "vt:w", perMinute)).toMatchObject({ granted: false, cause: "window" });
    await sleep(700);
    // Both have left: the count kept (3) less the two, then one claim more, up to the limit of 3 again.
    expect(await acquireRequestSlot(t.db, "vt:w", perMinute)).toEqual({ granted: true });
    expect(await acquireRequestSlot(t.db, "vt:w", perMinute)).toEqual({ granted: true });
    expect(await kept("vt:w")).toBe(3);
    expect(await acquireRequestSlot(t.db, "vt:w", perMinute)).toMatchObject({ granted: false });
    // A request recorded by hand is the newest now, which the count was not kept at: counted whole, 4 of 3.
    await t.sql`delete from vt_requests where budget = 'vt:w'`;
    await t.sql`insert into vt_requests (budget, at) values ('vt:w', now() - interval '1 second')`;
    expect(await acquireRequestSlot(t.db, "vt:w", perMinute)).toEqual({ granted: true });
    expect(await kept("vt:w")).toBe(2);
  });

  it("counts the window whole again for a claim with another window's length", async () => {
    const short = { ...perMinute, perMinute: 2, windowSeconds: 2 };
    const long = { ...perMinute, perMinute: 2 };
    expect(await acquireRequestSlot(t.db, "vt:len", short)).toEqual({ granted: true });
    await sleep(3200);
    // The short window (3 s with its margin) no longer holds the first request; the long one (61 s) does.
    expect(await acquireRequestSlot(t.db, "vt:len", short)).toEqual({ granted: true });
    expect(await kept("vt:len")).toBe(1);
    expect(await acquireRequestSlot(t.db, "vt:len", long)).toMatchObject({ granted: false, cause: "window" });
  });

  it("forgets the requests it no longer needs a few at a time, oldest first, on each claim it grants", async () => {
    await t.sql`insert into vt_requests (budget, at) select 'vt:old', now() - interval '20 minutes' - n * interval '1 ms' from generate_series(1, 40) n`;
    const left = async () => (await t.sql<{ n: number }[]>`select count(*)::int as n from vt_requests where budget = 'vt:old' and at < now() - interval '15 minutes'`)[0].n;
    expect(await acquireRequestSlot(t.db, "vt:old", perMinute)).toEqual({ granted: true });
    expect(await left()).toBe(24);
    await acquireRequestSlot(t.db, "vt:old", perMinute);
    await acquireRequestSlot(t.db, "vt:old", perMinute);
    expect(await left()).toBe(0);
    // Those of other budgets are theirs to forget.
    expect((await t.sql`select 1 from vt_requests where budget = 'vt:w'`).length).toBeGreaterThan(0);
  });
});
