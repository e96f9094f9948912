// The simulator's request limits: a sliding 60-second window and a UTC day, as VirusTotal's public API enforces.

export interface QuotaLimits {
  /** 0 turns the limit off. */
  requestsPerMinute: number;
  requestsPerDay: number;
}

export interface QuotaUsage { hourly: number; daily: number; monthly: number }

export interface Quota {
  /** Counts the request and returns true, or returns false (and counts nothing) when a limit is reached. */
  tryConsume(nowMs: number): boolean;
  usage(nowMs: number): QuotaUsage;
  reset(): void;
}

const MINUTE = 60_000;
const utc = (nowMs: number) => new Date(nowMs).toISOString();

export function createQuota(limits: QuotaLimits): Quota {
  let recent: number[] = [];
  // One counter per calendar bucket (UTC hour, day, month), restarted when the bucket changes.
  const buckets = {
    hourly: { key: "", count: 0, of: (iso: string) => iso.slice(0, 13) },
    daily: { key: "", count: 0, of: (iso: string) => iso.slice(0, 10) },
    monthly: { key: "", count: 0, of: (iso: string) => iso.slice(0, 7) },
  };

  const roll = (nowMs: number) => {
    const iso = utc(nowMs);
    for (const bucket of Object.values(buckets)) {
      const key = bucket.of(iso);
      if (bucket.key !== key) Object.assign(bucket, { key, count: 0 });
    }
    recent = recent.filter((at) => at > nowMs - MINUTE);
  };

  return {
    tryConsume(nowMs) {
      roll(nowMs);
      if (limits.requestsPerMinute > 0 && recent.length >= limits.requestsPerMinute) return false;
      if (limits.requestsPerDay > 0 && buckets.daily.count >= limits.requestsPerDay) return false;
      recent.push(nowMs);
      for (const bucket of Object.values(buckets)) bucket.count += 1;
      return true;
    },
    usage(nowMs) {
      roll(nowMs);
      return { hourly: buckets.hourly.count, daily: buckets.daily.count, monthly: buckets.monthly.count };
    },
    reset() {
      recent = [];
      for (const bucket of Object.values(buckets)) Object.assign(bucket, { key: "", count: 0 });
    },
  };
}
