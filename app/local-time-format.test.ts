import { describe, expect, it } from "vitest";
import { formatLocal, formatUtc } from "./local-time-format";

const date = new Date("2025-03-01T23:05:59.900Z");

describe("formatUtc", () => {
  it("cuts to the minute and names the zone", () => {
    expect(formatUtc(date)).toBe("2025-03-01 23:05 UTC");
  });
});

describe("formatLocal", () => {
  it("moves to the zone, across midnight, with its short name", () => {
    expect(formatLocal(date, "Europe/Berlin")).toBe("2025-03-02 00:05 GMT+1");
    expect(formatLocal(date, "America/New_York")).toBe("2025-03-01 18:05 EST");
  });

  it("writes midnight as 00, not 24", () => {
    expect(formatLocal(new Date("2025-06-01T00:00:00Z"), "UTC")).toBe("2025-06-01 00:00 UTC");
  });
});
