import { describe, expect, it } from "vitest";
import { estimateCompletion, type EtaInput } from "./eta";

const base: EtaInput = {
  now: new Date("2026-11-25T10:00:00Z"),
  lookupsAhead: 8,
  pausedUntil: null,
  perMinute: 4,
  windowSeconds: 60,
  perDay: 500,
  usedToday: 0,
  nextDayReset: new Date("2026-11-26T00:00:00Z"),
};

describe("estimateCompletion", () => {
  it("spends the lookups ahead at the allowed rate", () => {
    expect(estimateCompletion(base).toISOString()).toBe("2026-11-25T10:02:00.000Z");
  });

  it("starts counting when the pause ends", () => {
    const at = estimateCompletion({ ...base, pausedUntil: new Date("2026-11-25T12:00:00Z") });
    expect(at.toISOString()).toBe("2026-11-25T12:02:00.000Z");
  });

  it("waits for the next UTC day once the day's quota is spent", () => {
    const at = estimateCompletion({ ...base, usedToday: 496 });
    // 4 today (one minute), then 4 more from midnight.
    expect(at.toISOString()).toBe("2026-11-26T00:01:00.000Z");
  });

  it("adds whole days for a queue longer than a day's quota", () => {
    const at = estimateCompletion({ ...base, lookupsAhead: 1204, usedToday: 0 });
    // 500 today, 500 on the 26th, 204 on the 27th at 4 a minute.
    expect(at.toISOString()).toBe("2026-11-27T00:51:00.000Z");
  });
});
