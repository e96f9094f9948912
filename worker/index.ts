// The standalone worker process: graphile-worker running lookups against VirusTotal (or the simulator).
import { Logger, run } from "graphile-worker";
import { createDb } from "@/lib/db/client";
import { databaseUrl } from "@/lib/db/url";
import { env } from "@/lib/env";
import { cachePolicy } from "@/lib/jobs/settings";
import { log } from "@/lib/log";
import { createVirusTotalClient } from "@/lib/virustotal";
import { createBudgetGate } from "./budget-gate";
import { createLookupTask } from "./tasks/lookup";

const settings = env();
const url = databaseUrl();
const db = createDb(url, { max: settings.workerConcurrency + 2 });
const gate = createBudgetGate();

const runner = await run({
  connectionString: url,
  concurrency: settings.workerConcurrency,
  pollInterval: 1000,
  crontab: "",
  forbiddenFlags: gate.forbiddenFlags,
  logger: new Logger((scope) => (level, message, meta) => {
    // Per-job chatter is replaced by our own line per lookup; keep graphile-worker's warnings, errors and lifecycle.
    if (level === "debug" || (level === "info" && meta?.job)) return;
    log[level === "warning" ? "warn" : level]({ scope: scope.label }, message);
  }),
  taskList: {
    lookup: createLookupTask({
      db,
      vt: createVirusTotalClient({
        apiUrl: settings.vt.apiUrl,
        apiKey: settings.vt.apiKey,
        timeoutMs: settings.vt.requestTimeoutMs,
      }),
      source: settings.vt.source,
      cache: cachePolicy(settings),
      limits: {
        perMinute: settings.vt.requestsPerMinute,
        perDay: settings.vt.requestsPerDay,
        perMonth: settings.vt.requestsPerMonth,
      },
      quotaRetrySeconds: settings.vt.quotaRetrySeconds,
      gate,
    }),
  },
});

log.info(
  { event: "worker_started", source: settings.vt.source, apiUrl: settings.vt.apiUrl, concurrency: settings.workerConcurrency },
  settings.vt.source === "simulator"
    ? "Worker started: no VT_API_KEY, lookups go to the VirusTotal simulator"
    : "Worker started: lookups go to VirusTotal",
);

// graphile-worker handles SIGTERM/SIGINT itself: it stops fetching, lets running lookups finish, then resolves.
await runner.promise;
await db.$client.end({ timeout: 5 });
