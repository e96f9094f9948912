// Deciding how long a VirusTotal refusal pauses every lookup: as short as the cause allows, never a guess shorter.
import type { PauseCause } from "@/lib/db/schema";
import type { BadKeyError, QuotaExceededError, VirusTotalClient } from "@/lib/virustotal";
import { nextUtcResets } from "./resets";

export interface Pause {
  until: Date;
  cause: PauseCause;
  reason: string;
}

const MINUTE_MS = 60_000;
// A rejected key is tried again after this long, or at once when a worker restarts (the key may have changed).
const BAD_KEY_RETRY_MS = 60 * MINUTE_MS;

/**
 * A 429 pauses for VT_QUOTA_RETRY_SECONDS, unless VirusTotal's quota endpoint (which costs no lookup) shows the
 * cause: a spent daily or monthly quota resumes at the next UTC reset when that is sooner; otherwise it was a
 * per-minute (or hourly) throttle, and a minute is enough.
 */
export async function pauseForQuota(
  deps: { vt: Pick<VirusTotalClient, "getQuotas">; quotaRetrySeconds: number },
  error: QuotaExceededError,
  now: number = Date.now(),
): Promise<Pause> {
  const fallback = new Date(now + deps.quotaRetrySeconds * 1000);
  const sooner = (date: Date) => (date < fallback ? date : fallback);
  if (error.code === "TooManyRequestsError") {
    return { until: sooner(new Date(now + MINUTE_MS)), cause: "per_minute", reason: "VirusTotal is throttling requests (too many per minute)" };
  }
  const quotas = await deps.vt.getQuotas().catch(() => null);
  if (!quotas) {
    return { until: fallback, cause: "quota", reason: `VirusTotal quota exceeded (${error.code ?? "HTTP 429"})` };
  }
  const spent = (q: { used: number; allowed: number } | null) => q !== null && q.used >= q.allowed;
  const resets = nextUtcResets(now);
  if (spent(quotas.monthly)) {
    return { until: sooner(resets.month), cause: "monthly_limit", reason: "the VirusTotal key's monthly quota is used up" };
  }
  if (spent(quotas.daily)) {
    return { until: sooner(resets.day), cause: "daily_limit", reason: "the VirusTotal key's daily quota is used up" };
  }
  if (spent(quotas.hourly)) {
    const nextHour = new Date(Math.ceil((now + 1) / (60 * MINUTE_MS)) * 60 * MINUTE_MS);
    return { until: sooner(nextHour), cause: "per_minute", reason: "the VirusTotal key's hourly quota is used up" };
  }
  return { until: sooner(new Date(now + MINUTE_MS)), cause: "per_minute", reason: "VirusTotal is throttling requests (per-minute rate)" };
}

export function pauseForBadKey(error: BadKeyError, now: number = Date.now()): Pause {
  return {
    until: new Date(now + BAD_KEY_RETRY_MS),
    cause: "bad_key",
    reason: `${error.message}. Set a valid VT_API_KEY and restart the worker`,
  };
}

/** Exponential backoff (2, 4, 8 … s, at most an hour), or longer when VirusTotal said when to come back. */
export function transientRetryDelayMs(attempt: number, retryAfterSeconds: number | null): number {
  const backoffMs = Math.min(2 ** attempt, 3600) * 1000;
  return Math.max(backoffMs, (retryAfterSeconds ?? 0) * 1000);
}
