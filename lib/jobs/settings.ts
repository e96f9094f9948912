import { env, type Env, type VirusTotalSource } from "@/lib/env";
import { requestBudget } from "@/lib/budget/identity";
import type { CachePolicy } from "@/lib/db/queries/reports";
import type { CreateJobOptions } from "./create";

/** Which cached reports may answer: never a simulated one while a real key is set. */
export function cachePolicy(e: Env = env()): CachePolicy {
  const sources: VirusTotalSource[] = e.vt.source === "virustotal" ? ["virustotal"] : ["virustotal", "simulator"];
  return { ttlHours: e.cacheTtlHours, sources };
}

/** How a job from `clientId` (lib/access/client.ts) is created: its limits and its place in line are that client's. */
export function createJobOptions(clientId: string, e: Env = env()): CreateJobOptions {
  return {
    cache: cachePolicy(e),
    lookupMaxAttempts: e.lookupMaxAttempts,
    budget: requestBudget(e),
    maxHashes: e.jobMaxHashes,
    client: { id: clientId, limits: e.clientLimits },
  };
}
