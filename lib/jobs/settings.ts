import { env, type Env, type VirusTotalSource } from "@/lib/env";
import { requestBudget } from "@/lib/budget/identity";
import type { CachePolicy } from "@/lib/db/queries/reports";
import type { CreateJobOptions } from "./create";

/** Which cached reports may answer: never a simulated one while a real key is set. */
export function cachePolicy(e: Env = env()): CachePolicy {
  const sources: VirusTotalSource[] = e.vt.source === "virustotal" ? ["virustotal"] : ["virustotal", "simulator"];
  return { ttlHours: e.cacheTtlHours, sources };
}

export function createJobOptions(e: Env = env()): CreateJobOptions {
  return { cache: cachePolicy(e), lookupMaxAttempts: e.lookupMaxAttempts, budget: requestBudget(e), maxHashes: e.jobMaxHashes };
}
