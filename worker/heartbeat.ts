// Every pool beats; every pool also reaps: whichever process notices a silent pool first releases its jobs.
// A pool that finds its own row gone was declared dead while it was silent (a pause, a stopped process, a lost
// network): its running lookups were released and may be running elsewhere, or again in this very pool, where
// graphile-worker could not tell the two runs apart. It must stop at once: onDeclaredDead ends the process.
import os from "node:os";
import type { Db } from "@/lib/db/client";
import { beat, registerPool, removePool } from "@/lib/db/queries/worker-pools";
import { log } from "@/lib/log";
import { reap } from "./reaper";

export function startHeartbeat(
  db: Db,
  pool: { id: string; concurrency: number },
  settings: { heartbeatSeconds: number; staleSeconds: number },
  onDeclaredDead: () => void,
) {
  const row = { id: pool.id, hostname: os.hostname(), pid: process.pid, concurrency: pool.concurrency };
  let stopped = false;
  let registered = false;
  let lastBeatAt = 0;
  // Since when this pool has beaten without a gap: only a pool that has itself been heard for the whole stale time
  // can tell a silent pool from one cut off from the database like itself, or one just started beside it.
  let heardSince = 0;

  async function tick() {
    try {
      if (!registered) {
        await registerPool(db, row);
        registered = true;
      } else if (!(await beat(db, pool.id))) {
        if (!stopped) onDeclaredDead();
        return;
      }
      const now = Date.now();
      if (heardSince === 0 || now - lastBeatAt > 1.5 * settings.heartbeatSeconds * 1000) heardSince = now;
      lastBeatAt = now;
      if (now - heardSince < settings.staleSeconds * 1000) return;
      const reaped = await reap(db, settings.staleSeconds);
      if (reaped.pools.length > 0) log.warn({ event: "released_stale_pools", pools: reaped.pools }, "Released the jobs of silent worker pools");
      if (reaped.failed.length > 0) log.warn({ event: "failed_spent_lookups", hashes: reaped.failed }, "Failed lookups that had no attempt left");
    } catch (error) {
      log.error({ err: error }, "Heartbeat failed");
    }
  }

  void tick();
  const timer = setInterval(() => void tick(), settings.heartbeatSeconds * 1000);
  timer.unref();
  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await removePool(db, pool.id).catch(() => {});
    },
  };
}
