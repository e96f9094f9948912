// The standalone worker process: graphile-worker running lookups against VirusTotal (or the simulator).
import { EventEmitter } from "node:events";
import { Logger, run, type WorkerEvents } from "graphile-worker";
import { createDb, withSessionSettings } from "@/lib/db/client";
import { createBudgetGate } from "@/lib/budget/gate";
import { requestBudget } from "@/lib/budget/identity";
import { requestLimits } from "@/lib/budget/limits";
import { resumeLookupsAtStart } from "@/lib/budget/resume";
import { databaseUrl } from "@/lib/db/url";
import { env } from "@/lib/env";
import { cachePolicy } from "@/lib/jobs/settings";
import { log } from "@/lib/log";
import { LOOKUP_TASK } from "@/lib/lookups/job";
import { createVirusTotalClient, splitCredentials } from "@/lib/virustotal";
import { startFoldingCounts } from "./fold-counts";
import { startHeartbeat } from "./heartbeat";
import { createLookupTask } from "./tasks/lookup";
import { createRetentionTask, RETENTION_CRONTAB, RETENTION_TASK } from "./tasks/retention";

const settings = env();
const url = databaseUrl();
const db = createDb(url, { max: settings.workerConcurrency + 2 });
const budget = requestBudget(settings);
const gate = createBudgetGate({ db, budget });

// A rejected key pauses lookups until a worker restarts, possibly with a new key: try again now.
const resumed = await resumeLookupsAtStart(db, budget);
if (resumed > 0) {
  log.info({ event: "lookups_resumed", count: resumed }, "Resuming lookups that waited for a rejected key or another key's budget");
}

const folding = startFoldingCounts(db);

const events: WorkerEvents = new EventEmitter();
let heartbeat: ReturnType<typeof startHeartbeat> | undefined;
events.on("pool:create", ({ workerPool }) => {
  heartbeat = startHeartbeat(db, { id: workerPool.id, concurrency: settings.workerConcurrency }, settings, declaredDead);
});

/**
 * This pool was found silent and its lookups released (see heartbeat.ts): end now, without graphile-worker's
 * graceful stop, whose failure updates could unlock a run of the same job this pool fetched again. Whatever ran
 * here is fenced and runs elsewhere; a supervisor (compose's restart policy) starts a fresh worker.
 */
function declaredDead(): never {
  log.error({ event: "pool_declared_dead" }, "This worker was silent for too long and its lookups were given to others: exiting");
  process.exit(75);
}

const runner = await run({
  connectionString: withSessionSettings(url),
  concurrency: settings.workerConcurrency,
  pollInterval: 1000,
  crontab: RETENTION_CRONTAB,
  // We stop on SIGTERM/SIGINT ourselves, so that the pool's heartbeat row goes with it (graphile-worker's own
  // handler re-raises the signal once the pool has drained, ending the process before our clean-up).
  noHandleSignals: true,
  events,
  forbiddenFlags: gate.forbiddenFlags,
  logger: new Logger((scope) => (level, message, meta) => {
    // Per-job chatter is replaced by our own line per lookup; keep graphile-worker's warnings, errors and lifecycle.
    if (level === "debug" || (level === "info" && meta?.job)) return;
    log[level === "warning" ? "warn" : level]({ scope: scope.label }, message);
  }),
  taskList: {
    [RETENTION_TASK]: createRetentionTask(db, settings.retention),
    [LOOKUP_TASK]: createLookupTask({
      db,
      vt: createVirusTotalClient({
        apiUrl: settings.vt.apiUrl,
        apiKey: settings.vt.apiKey,
        timeoutMs: settings.vt.requestTimeoutMs,
      }),
      source: settings.vt.source,
      cache: cachePolicy(settings),
      budget,
      limits: requestLimits(settings),
      quotaRetrySeconds: settings.vt.quotaRetrySeconds,
      maxAttempts: settings.lookupMaxAttempts,
      leaseSeconds: Math.ceil(settings.vt.requestTimeoutMs / 1000) + 30,
      gate,
      declaredDead,
    }),
  },
});

log.info(
  // The address without the credentials it may hold (a proxy's): those never reach a log.
  { event: "worker_started", source: settings.vt.source, apiUrl: splitCredentials(settings.vt.apiUrl).url, concurrency: settings.workerConcurrency },
  settings.vt.source === "simulator"
    ? "Worker started: no VT_API_KEY, lookups go to the VirusTotal simulator"
    : "Worker started: lookups go to VirusTotal",
);

// SIGTERM or SIGINT: stop fetching, let running lookups finish, say goodbye in worker_pools, close the pool.
// The signal can arrive twice (to the process group, and relayed by tsx): the second must not kill us mid-drain.
let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info({ event: "worker_stopping", signal }, "Stopping: finishing running lookups");
    void runner.stop();
  });
}
await runner.promise;
await heartbeat?.stop();
await folding.stop();
await db.$client.end({ timeout: 5 });
log.info({ event: "worker_stopped" }, "Worker stopped");
