// What a lookup asks Postgres before asking VirusTotal, in one transaction whose statements are sent together: the
// cache, whether anyone still wants the name, the name's lease and, once the lease is ours and the cache still has
// no answer, a free request slot. A slot that is not free is left to waitForSlot (slot-wait.ts), which decides when
// to come back.
import { claimFreeRequestIf } from "@/lib/budget/slot";
import { pipelinedTransaction } from "@/lib/db/pipelined-transaction";
import { lookOrLease, stillUnanswered, type FirstLook } from "@/lib/db/queries/lookup-start";
import type { LookupRun } from "./settle";
import type { LookupDeps } from "./tasks/lookup";

export interface LookAndClaim {
  look: FirstLook;
  /**
   * When the lease is ours: true, a request is claimed; false, the window, a limit or a pause turned it away; null,
   * no claim was made because an answer arrived after the look (or the lease was lost).
   */
  slot: boolean | null;
}

export async function lookAndClaim(
  deps: Pick<LookupDeps, "db" | "cache" | "budget" | "limits" | "leaseSeconds">,
  run: Pick<LookupRun, "hash" | "holder">,
): Promise<LookAndClaim> {
  const [, look, slot] = await pipelinedTransaction<[unknown, FirstLook, boolean | null]>(deps.db, (q) => [
    // The budget's lock is held until this commits: not waiting for the commit to reach the disk (nor a synchronous
    // standby) lets the next lookup claim sooner. Should Postgres itself crash (or fail over) within the moment before
    // it does (the next settle's commit, or the WAL writer within a second, flushes it), a request made may go
    // uncounted, letting the minute after recovery go over the limit by as much (VirusTotal's 429 then pauses us),
    // and the lease be forgotten; a worker crash loses nothing.
    q`set local synchronous_commit = off`.execute(),
    lookOrLease(q, run.hash, run.holder, deps.leaseSeconds, deps.cache),
    claimFreeRequestIf(q, deps.budget, deps.limits, stillUnanswered(q, run.hash, run.holder, deps.cache)),
  ]);
  return { look, slot };
}
