// The worker container's healthcheck (docker-compose.yml): healthy while a worker pool of this host has beaten within
// WORKER_STALE_SECONDS, the silence after which the other workers take it for dead and give its lookups away. Docker
// runs it inside the worker's container, so this host is that container: heartbeat.ts records os.hostname() too.
// Exits 0 when healthy, 1 otherwise, printing one line on why (docker inspect shows it).
//   node .next/worker-healthcheck.mjs   (bundled by npm run build, run by node alone: it runs every 30 s)
import os from "node:os";
import { createDb } from "@/lib/db/client";
import { listLivePools } from "@/lib/db/queries/worker-pools";
import { databaseUrl } from "@/lib/db/url";
import { env } from "@/lib/env";
import { causeOf } from "@/lib/errors";

const DATABASE_TIMEOUT_MS = 5000;

const { staleSeconds } = env();
const host = os.hostname();

// A database that does not answer fails the check now, rather than when Docker's own timeout kills it.
setTimeout(() => finish(1, `the database did not answer within ${DATABASE_TIMEOUT_MS / 1000} s`), DATABASE_TIMEOUT_MS);

try {
  const db = createDb(databaseUrl(), { max: 1 });
  const live = (await listLivePools(db, staleSeconds)).filter((pool) => pool.hostname === host);
  if (live.length === 0) finish(1, `no worker pool on ${host} has beaten within the last ${staleSeconds} s`);
  const newest = live.reduce((a, b) => (a.lastBeatAt > b.lastBeatAt ? a : b));
  finish(0, `worker pool ${newest.id} on ${host} last beat at ${newest.lastBeatAt.toISOString()}`);
} catch (error) {
  finish(1, `the database check failed: ${causeOf(error)}`);
}

function finish(code: 0 | 1, message: string): never {
  console.log(message);
  process.exit(code);
}
