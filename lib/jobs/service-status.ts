// The lookup service at a glance: budget used against the limits, the pause, the queue, and live worker pools.
import type { Db } from "@/lib/db/client";
import { requestBudget } from "@/lib/budget/identity";
import { requestLimits } from "@/lib/budget/limits";
import { getActivePause, readUsage } from "@/lib/db/queries/budget";
import { countQueuedLookups } from "@/lib/db/queries/queue";
import { listLivePools } from "@/lib/db/queries/worker-pools";
import { env } from "@/lib/env";
import { ttlCache } from "@/lib/ttl-cache";
import { toPauseJson, type ServiceStatus } from "./api-schema";

/** Seconds the service status is shared between the pollers of one web process. */
const STATUS_TTL_MS = 3000;

/** The budget's usage, read at most every few seconds per process (the ETA and the status strip both ask). */
export const cachedUsage = (db: Db) => usageCache(db)();
const usageCache = perDb((db) =>
  ttlCache(STATUS_TTL_MS, () => {
    const e = env();
    return readUsage(db, requestBudget(e), e.vt.windowSeconds);
  }),
);

/** The service status as /api/status answers it: read at most every few seconds per process. */
export const cachedServiceStatus = (db: Db) => statusCache(db)();
const statusCache = perDb((db) => ttlCache(STATUS_TTL_MS, () => getServiceStatus(db)));

/** One cache per pool (tests run several databases in one process). */
export function perDb<T>(make: (db: Db) => T): (db: Db) => T {
  const caches = new WeakMap<Db, T>();
  return (db) => {
    let cache = caches.get(db);
    if (!cache) caches.set(db, (cache = make(db)));
    return cache;
  };
}

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
      concurrency: pool.concurrency,
      startedAt: pool.startedAt.toISOString(),
      lastBeatAt: pool.lastBeatAt.toISOString(),
      heartbeatAgeSeconds: Math.max(0, Math.round((Date.now() - pool.lastBeatAt.getTime()) / 1000)),
    })),
  };
}
