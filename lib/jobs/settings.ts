import { createHash } from "node:crypto";
import { env, type Env, type VirusTotalSource } from "@/lib/env";
import type { CachePolicy } from "@/lib/db/queries/jobs";
import type { RequestLimits } from "@/lib/db/queries/virustotal-budget";
import type { CreateJobOptions } from "./create";

/** Which cached reports may answer: never a simulated one while a real key is set. */
export function cachePolicy(e: Env = env()): CachePolicy {
  const sources: VirusTotalSource[] = e.vt.source === "virustotal" ? ["virustotal"] : ["virustotal", "simulator"];
  return { ttlHours: e.cacheTtlHours, sources };
}

export function createJobOptions(e: Env = env()): CreateJobOptions {
  return { cache: cachePolicy(e), lookupMaxAttempts: e.lookupMaxAttempts, budget: requestBudget(e) };
}

/** Whose quota requests are counted against: the simulator's, or the configured key's (by fingerprint only). */
export function requestBudget(e: Env = env()): string {
  if (e.vt.source === "simulator") return "simulator";
  return `vt:${createHash("sha256").update(e.vt.apiKey).digest("hex").slice(0, 16)}`;
}

export function requestLimits(e: Env = env()): RequestLimits {
  return {
    perMinute: e.vt.requestsPerMinute,
    perDay: e.vt.requestsPerDay,
    perMonth: e.vt.requestsPerMonth,
    windowSeconds: e.vt.windowSeconds,
  };
}
