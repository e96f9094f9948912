// At a worker's start: a rejected key's pause ends (the worker may have been restarted with a new key), and the
// lookups that waited for it, or for another key's pause or window (this worker spends its own key), run now.
// Backoffs after transient failures and waits for another lookup's lease are left as they are.
import type { Db } from "@/lib/db/client";
import { endPause } from "@/lib/db/queries/budget";
import { wakeLookupsWaitingFor } from "@/lib/db/queries/queue";

export async function resumeLookupsAtStart(db: Db, budget: string): Promise<number> {
  return db.transaction(async (tx) => {
    const ended = await endPause(tx, budget, "bad_key");
    return wakeLookupsWaitingFor(tx, budget, ended ? ["bad_key"] : []);
  });
}
