// GET /api/health: for a load balancer or a container's healthcheck. 200 while the database answers, with the age
// of the newest worker heartbeat (a stopped worker does not make the web app unhealthy: alert on that age, or on
// /api/status's workers); 503 in the error shape when the database does not answer within a few seconds.
import { respond } from "@/lib/api/respond";
import { getDb } from "@/lib/db/client";
import { newestHeartbeatAge } from "@/lib/db/queries/worker-pools";
import { AppError } from "@/lib/errors";
import { env } from "@/lib/env";
import type { Health } from "@/lib/jobs/api-schema";

const DATABASE_TIMEOUT_MS = 3000;

export async function GET() {
  return respond(async () => {
    const age = await withinTimeout(newestHeartbeatAge(getDb()), DATABASE_TIMEOUT_MS);
    const body: Health = {
      status: "ok",
      database: "ok",
      worker: {
        newestHeartbeatAgeSeconds: age === null ? null : Math.round(age),
        // Older than this, a worker is taken for dead and its lookups are given to another (WORKER_STALE_SECONDS).
        staleAfterSeconds: env().staleSeconds,
      },
    };
    return Response.json(body, { headers: { "cache-control": "no-store" } });
  });
}

async function withinTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AppError("unavailable", `The database did not answer within ${ms / 1000} s.`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
