// Folds the job-count deltas the tasks triggers append into each job's base row, every few seconds, so that a
// report's counts stay one row plus a handful of deltas. Any number of workers may fold at once (SKIP LOCKED).
import type { Db } from "@/lib/db/client";
import { foldCountDeltas } from "@/lib/db/queries/job-counts";
import { log } from "@/lib/log";

const FOLD_EVERY_MS = 2000;
const BATCH = 10_000;

export function startFoldingCounts(db: Db) {
  let running = false;
  async function fold() {
    if (running) return;
    running = true;
    try {
      // A burst (a big job's cache hits, a fast key) can leave more than a batch: fold until caught up.
      while ((await foldCountDeltas(db, BATCH)) === BATCH);
    } catch (error) {
      log.error({ err: error }, "Folding job counts failed");
    } finally {
      running = false;
    }
  }
  const timer = setInterval(() => void fold(), FOLD_EVERY_MS);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      while (running) await new Promise((resolve) => setTimeout(resolve, 50));
    },
  };
}
