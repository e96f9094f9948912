// Freeing what stopped workers left behind, run by every pool on its heartbeat. graphile-worker alone would keep
// a dead pool's jobs locked for 4 hours, and keeps a job that failed its last attempt forever, key and all.
import type { Db } from "@/lib/db/client";
import { releaseLeasesOfPools } from "@/lib/db/queries/leases";
import { deleteDeadLookups, releaseDeadPoolRows, wakeLeaseWaiters, type ReleasedRow } from "@/lib/db/queries/queue";
import { failTasks } from "@/lib/db/queries/tasks";
import { forgetSilentPools } from "@/lib/db/queries/worker-pools";

export interface Reaped {
  /** Pools found silent whose jobs and leases were released. */
  pools: string[];
  /** Names whose tasks failed because their lookup had no attempt left. */
  failed: string[];
}

/**
 * Forgets pools silent for longer than `staleSeconds` and releases what they held: a job with attempts left runs
 * again; one that died on its last attempt ends its tasks as failed, with the reason, and leaves the queue. So does
 * a dead row from any cause. A row that no longer stood for its name (another row holds its key, or a cancel took
 * it) just leaves: its tasks are served by the other row, or by nobody because nobody wants them.
 */
export async function reap(db: Db, staleSeconds: number): Promise<Reaped> {
  return db.transaction(async (tx) => {
    await forgetSilentPools(tx, staleSeconds);
    const { pools, spent } = await releaseDeadPoolRows(tx, staleSeconds);
    const dead = await deleteDeadLookups(tx);
    const failed: string[] = [];
    const fail = async (rows: ReleasedRow[], why: (row: ReleasedRow) => string) => {
      for (const row of rows.filter((r) => r.keyed)) {
        await failTasks(tx, row.hash, `Gave up after ${row.attempts} attempts: ${why(row)}`);
        failed.push(row.hash);
      }
    };
    await fail(spent, () => "the worker running the lookup stopped");
    await fail(dead, (row) => (row.lastError ? "internal error" : "the worker running the lookup stopped"));
    if (pools.length > 0) {
      // A dead pool's requests died with it: its leases need not be waited out, and whoever waited wakes now.
      const names = await releaseLeasesOfPools(tx, pools);
      if (names.length > 0) await wakeLeaseWaiters(tx, names);
    }
    return { pools, failed };
  });
}
