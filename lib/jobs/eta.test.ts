import { describe, expect, it } from "vitest";
import { estimateCompletion, type EtaInput } from "./eta";

// VirusTotal's public tier: 4 a minute is one lookup every 15 s; 500 a day; 15,500 a month.
const base: EtaInput = {
  now: new Date("2026-11-25T10:00:00Z"),
  lookupsAhead: 8,
  pausedUntil: null,
  perMinute: 4,
  windowSeconds: 60,
  perDay: 500,
  usedToday: 0,
  perMonth: 15_500,
  usedThisMonth: 0,
};

const eta = (changes: Partial<EtaInput>) => estimateCompletion({ ...base, ...changes })?.toISOString() ?? null;

describe("estimateCompletion", () => {
  describe("the rate", () => {
    it("sends the first lookup at the start and the last one interval apart each", () => {
      // 8 lookups: the 8th is sent 7 × 15 s = 1 min 45 s after 10:00.
      expect(eta({})).toBe("2026-11-25T10:01:45.000Z");
    });

    it("returns the start itself when no lookup is ahead", () => {
      expect(eta({ lookupsAhead: 0 })).toBe("2026-11-25T10:00:00.000Z");
      expect(eta({ lookupsAhead: 0, pausedUntil: new Date("2026-11-25T12:00:00Z") })).toBe("2026-11-25T12:00:00.000Z");
    });

    it("walks a job of a million lookups at 500 a day in 2,000 days", () => {
      // 500 on 25 Nov 2026, then 1,999 more days: 36 to the end of 2026, +365 (2027), +366 (2028), +365 (2029),
      // +365 (2030), +365 (2031) = 1,862 on 31 Dec 2031; 137 more is 16 May 2032 (leap year: 31+29+31+30+16).
      // That day's 500 end at 499 × 15 s = 2 h 04 min 45 s.
      expect(eta({ lookupsAhead: 1_000_000, perMonth: 1_000_000_000 })).toBe("2032-05-16T02:04:45.000Z");
    });
  });

  describe("the daily quota", () => {
    it("finishes today when the lookups ahead are exactly what is left of today's quota", () => {
      // 500 − 496 = 4 left today: the 4th at 10:00 + 3 × 15 s.
      expect(eta({ usedToday: 496, lookupsAhead: 4 })).toBe("2026-11-25T10:00:45.000Z");
    });

    it("sends the one past today's quota at the next UTC midnight", () => {
      expect(eta({ usedToday: 496, lookupsAhead: 5 })).toBe("2026-11-26T00:00:00.000Z");
    });

    it("ends on the last day it uses when the lookups ahead are whole days past today", () => {
      // 500 today, 500 on the 26th: the 500th of the 26th at 00:00 + 499 × 15 s = 02:04:45.
      expect(eta({ lookupsAhead: 1_000 })).toBe("2026-11-26T02:04:45.000Z");
      // 300 left today, then 2 × 500: the 27th's 500th at 02:04:45.
      expect(eta({ usedToday: 200, lookupsAhead: 1_300 })).toBe("2026-11-27T02:04:45.000Z");
    });

    it("spreads a queue longer than a day's quota over the following days", () => {
      // 500 today, 500 on the 26th, 204 on the 27th: the 204th at 203 × 15 s = 50 min 45 s.
      expect(eta({ lookupsAhead: 1_204 })).toBe("2026-11-27T00:50:45.000Z");
    });

    it("sends nothing more today once today's quota is used up, or overrun", () => {
      expect(eta({ usedToday: 500, lookupsAhead: 1 })).toBe("2026-11-26T00:00:00.000Z");
      // None today; 500 on the 26th; the 501st at midnight on the 27th.
      expect(eta({ usedToday: 520, lookupsAhead: 501 })).toBe("2026-11-27T00:00:00.000Z");
    });
  });

  describe("days the rate cannot fill", () => {
    const fast = { perMinute: 60, perDay: 100_000, perMonth: 3_000_000 }; // one a second, 27.8 h for a day's quota

    it("fits at most a day's worth of seconds in a UTC day", () => {
      // 10:00:00–23:59:59 is 50,400; the 26th is 86,400 (136,800); the 27th's 63,200th at 63,199 s = 17:33:19.
      expect(eta({ ...fast, lookupsAhead: 200_000 })).toBe("2026-11-27T17:33:19.000Z");
    });

    it("fits only what the time left until midnight allows on a day started late", () => {
      // From 22:00 two hours fit 7,200 of the 10,000 left; the 26th's 4,800th at 4,799 s = 01:19:59.
      const at = eta({ ...fast, perDay: 10_000, now: new Date("2026-11-25T22:00:00Z"), lookupsAhead: 12_000 });
      expect(at).toBe("2026-11-26T01:19:59.000Z");
    });

    it("fills a day started exactly at midnight up to its last interval", () => {
      // 86,400 s / 15 s = 5,760 sends from 00:00:00 to 23:59:45; the 5,761st is the next day's first.
      const midnight = { now: new Date("2026-11-26T00:00:00Z"), perDay: 10_000 };
      expect(eta({ ...midnight, lookupsAhead: 5_760 })).toBe("2026-11-26T23:59:45.000Z");
      expect(eta({ ...midnight, lookupsAhead: 5_761 })).toBe("2026-11-27T00:00:00.000Z");
    });
  });

  describe("the monthly quota", () => {
    it("waits for the first of next month once this month's quota is used up", () => {
      // 8 from 1 Dec 00:00: the 8th at 1 min 45 s.
      expect(eta({ usedThisMonth: 15_500 })).toBe("2026-12-01T00:01:45.000Z");
      // Across a year: 31 Dec → 1 Jan.
      expect(eta({ now: new Date("2026-12-31T23:00:00Z"), usedThisMonth: 15_500 })).toBe("2027-01-01T00:01:45.000Z");
    });

    it("caps the days of a month whose quota is nearly used up", () => {
      // 700 left this month: 500 on the 28th, 200 on the 29th; then 300 on 1 Dec, the 300th at 299 × 15 s = 01:14:45.
      const at = eta({ now: new Date("2026-11-28T10:00:00Z"), usedThisMonth: 14_800, lookupsAhead: 1_000 });
      expect(at).toBe("2026-12-01T01:14:45.000Z");
    });

    it("starts a new month with a fresh quota, whatever was left of the last one", () => {
      // 30 Nov: 500 of the 600 left. 1 Dec: a fresh 15,500, so a full 500. 2 Dec: 100, the 100th at 99 × 15 s = 24:45.
      const at = eta({ now: new Date("2026-11-30T10:00:00Z"), usedThisMonth: 14_900, lookupsAhead: 1_100 });
      expect(at).toBe("2026-12-02T00:24:45.000Z");
    });
  });

  describe("pauses", () => {
    it("starts counting when the pause ends", () => {
      expect(eta({ pausedUntil: new Date("2026-11-25T12:00:00Z") })).toBe("2026-11-25T12:01:45.000Z");
    });

    it("does not count today's use against a pause that ends on another day", () => {
      // Today's 500 are spent, but the start is the 26th: 8 from 06:00, the 8th at 06:01:45.
      const pausedUntil = new Date("2026-11-26T06:00:00Z");
      expect(eta({ usedToday: 500, pausedUntil })).toBe("2026-11-26T06:01:45.000Z");
      // 300 used today do not shrink the 26th's 500: the 501st at midnight on the 27th.
      expect(eta({ usedToday: 300, pausedUntil, lookupsAhead: 501 })).toBe("2026-11-27T00:00:00.000Z");
    });

    it("does not count this month's use against a pause that ends exactly at the next month's reset", () => {
      const pausedUntil = new Date("2026-12-01T00:00:00Z");
      const at = eta({ now: new Date("2026-11-30T10:00:00Z"), usedToday: 500, usedThisMonth: 15_500, pausedUntil });
      expect(at).toBe("2026-12-01T00:01:45.000Z");
    });
  });

  describe("limits that can never be met", () => {
    it("has no estimate when a limit is 0", () => {
      expect(eta({ perDay: 0 })).toBeNull();
      expect(eta({ perMonth: 0 })).toBeNull();
      expect(eta({ perMinute: 0 })).toBeNull();
    });
  });
});
