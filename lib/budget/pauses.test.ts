import { describe, expect, it } from "vitest";
import { BadKeyError, QuotaExceededError, type Quotas } from "@/lib/virustotal";
import { nextUtcResets } from "./resets";
import { pauseForBadKey, pauseForQuota, transientRetryDelayMs } from "./pauses";

const NOW = Date.parse("2026-11-25T10:00:00Z");
const quota = (code = "QuotaExceededError") => new QuotaExceededError("Quota exceeded", { status: 429, code });
const deps = (quotas: Quotas | null, quotaRetrySeconds = 86_400) => ({
  quotaRetrySeconds,
  vt: { getQuotas: async () => (quotas ? quotas : Promise.reject(new Error("unreachable"))) },
});
const use = (used: number, allowed: number) => ({ used, allowed });

describe("pauseForQuota", () => {
  it("resumes at the next UTC day when the daily quota is spent", async () => {
    const pause = await pauseForQuota(deps({ hourly: use(20, 240), daily: use(500, 500), monthly: use(900, 15_500) }), quota(), NOW);
    expect(pause).toMatchObject({ cause: "daily_limit", until: new Date("2026-11-26T00:00:00Z") });
  });

  it("resumes on the 1st when the monthly quota is spent", async () => {
    const pause = await pauseForQuota(deps({ hourly: null, daily: use(10, 500), monthly: use(15_500, 15_500) }, 40 * 86_400), quota(), NOW);
    expect(pause).toMatchObject({ cause: "monthly_limit", until: new Date("2026-12-01T00:00:00Z") });
  });

  it("never waits longer than VT_QUOTA_RETRY_SECONDS", async () => {
    const pause = await pauseForQuota(deps({ hourly: null, daily: use(500, 500), monthly: null }, 60), quota(), NOW);
    expect(pause).toMatchObject({ cause: "daily_limit", until: new Date(NOW + 60_000) });
  });

  it("waits a minute, not a day, for a per-minute throttle", async () => {
    const throttled = await pauseForQuota(deps({ hourly: use(1, 240), daily: use(3, 500), monthly: use(3, 15_500) }), quota(), NOW);
    expect(throttled).toMatchObject({ cause: "per_minute", until: new Date(NOW + 60_000) });
    const tooMany = await pauseForQuota(deps(null), quota("TooManyRequestsError"), NOW);
    expect(tooMany).toMatchObject({ cause: "per_minute", until: new Date(NOW + 60_000) });
  });

  it("waits until the next hour when the hourly quota is spent", async () => {
    const pause = await pauseForQuota(deps({ hourly: use(240, 240), daily: use(240, 500), monthly: null }), quota(), NOW + 60_000);
    expect(pause).toMatchObject({ cause: "per_minute", until: new Date("2026-11-25T11:00:00Z") });
  });

  it("falls back to VT_QUOTA_RETRY_SECONDS when the cause cannot be known", async () => {
    const pause = await pauseForQuota(deps(null, 86_400), quota(), NOW);
    expect(pause).toMatchObject({ cause: "quota", until: new Date(NOW + 86_400_000) });
  });
});

describe("pauseForBadKey", () => {
  it("pauses with the reason and what to do about it", () => {
    const pause = pauseForBadKey(new BadKeyError("VirusTotal rejected the API key (WrongCredentialsError: Wrong API key)"), NOW);
    expect(pause.cause).toBe("bad_key");
    expect(pause.reason).toBe(
      "VirusTotal rejected the API key (WrongCredentialsError: Wrong API key). Set a valid VT_API_KEY and restart the worker",
    );
    expect(pause.until.getTime()).toBeGreaterThan(NOW);
  });
});

describe("transientRetryDelayMs", () => {
  it("backs off exponentially and honours a longer Retry-After", () => {
    expect([1, 2, 3].map((attempt) => transientRetryDelayMs(attempt, null))).toEqual([2000, 4000, 8000]);
    expect(transientRetryDelayMs(1, 30)).toBe(30_000);
    expect(transientRetryDelayMs(3, 1)).toBe(8000);
    expect(transientRetryDelayMs(40, null)).toBe(3_600_000);
  });
});

describe("nextUtcResets", () => {
  it("knows month ends", () => {
    expect(nextUtcResets(Date.parse("2026-12-31T23:59:00Z"))).toEqual({
      day: new Date("2027-01-01T00:00:00Z"),
      month: new Date("2027-01-01T00:00:00Z"),
    });
  });
});
