// Every pool beats; every pool also reaps: whichever process notices a silent pool first releases its jobs.
import os from "node:os";
import type { Db } from "@/lib/db/client";
import { beat, removePool } from "@/lib/db/queries/worker-pools";
import { log } from "@/lib/log";
import { reap } from "./reaper";

export function startHeartbeat(db: Db, pool: { id: string; concurrency: number }, settings: { heartbeatSeconds: number; staleSeconds: number }) {
  const row = { id: pool.id, hostname: os.hostname(), pid: process.pid, concurrency: pool.concurrency };
  let stopped = false;

  async function tick() {
    try {
      await beat(db, row);
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
