// The lookup service at a glance: budget used against the limits, the pause, the queue, and live worker pools.
import type { Db } from "@/lib/db/client";
import { requestBudget } from "@/lib/budget/identity";
import { requestLimits } from "@/lib/budget/limits";
import { getActivePause, readUsage } from "@/lib/db/queries/budget";
import { countQueuedLookups } from "@/lib/db/queries/queue";
import { listLivePools } from "@/lib/db/queries/worker-pools";
import { env } from "@/lib/env";
import { toPauseJson, type ServiceStatus } from "./api-schema";

export async function getServiceStatus(db: Db): Promise<ServiceStatus> {
  const e = env();
  const [usage, waitingLookups, pause, pools] = await Promise.all([
    readUsage(db, requestBudget(e), e.vt.windowSeconds),
    countQueuedLookups(db),
    getActivePause(db, requestBudget(e)),
    listLivePools(db, e.staleSeconds),
  ]);
  return {
    source: e.vt.source,
    limits: requestLimits(e),
    usage,
    waitingLookups,
    pause: toPauseJson(pause),
    workers: pools.map((pool) => ({
      id: pool.id,
      hostname: pool.hostname,
      pid: pool.pid,
      concurrency: pool.concurrency,
      startedAt: pool.startedAt.toISOString(),
      lastBeatAt: pool.lastBeatAt.toISOString(),
    })),
  };
}
