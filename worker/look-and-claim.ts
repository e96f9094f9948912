// What a lookup asks Postgres before asking VirusTotal, in one statement that is its own transaction: the cache,
// whether anyone still wants the name, the name's lease and, once the lease is ours and the cache still has no
// answer, a free request slot (lib/db/queries/lookup-start.ts). A slot that is not free is left to waitForSlot
// (slot-wait.ts), which decides when to come back.
import { effectiveWindowMs } from "@/lib/budget/limits";
import { lookAndClaim as lookAndClaimQuery, type LookAndClaim } from "@/lib/db/queries/lookup-start";
import type { LookupRun } from "./settle";
import type { LookupDeps } from "./tasks/lookup";

export type { LookAndClaim };

export function lookAndClaim(
  deps: Pick<LookupDeps, "db" | "cache" | "budget" | "limits" | "leaseSeconds">,
  run: Pick<LookupRun, "hash" | "holder">,
): Promise<LookAndClaim> {
  return lookAndClaimQuery(deps.db, run, deps.leaseSeconds, deps.cache, {
    budget: deps.budget,
    limits: deps.limits,
    windowMs: effectiveWindowMs(deps.limits),
  });
}
