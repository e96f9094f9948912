// Every pool beats; every pool also reaps: whichever process notices a silent pool first releases its jobs.
import os from "node:os";
import type { Db } from "@/lib/db/client";
import { beat, releaseStalePools, removePool } from "@/lib/db/queries/worker-pools";
import { log } from "@/lib/log";

export function startHeartbeat(db: Db, pool: { id: string; concurrency: number }, settings: { heartbeatSeconds: number; staleSeconds: number }) {
  const row = { id: pool.id, hostname: os.hostname(), pid: process.pid, concurrency: pool.concurrency };
  let stopped = false;

  async function tick() {
    try {
      await beat(db, row);
      const released = await releaseStalePools(db, settings.staleSeconds);
      if (released.length > 0) log.warn({ event: "released_stale_pools", pools: released }, "Released the jobs of silent worker pools");
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
