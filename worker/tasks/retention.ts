// The daily clean-up, run by graphile-worker's cron (worker/index.ts) once per day across every worker: finished
// jobs past JOB_RETENTION_DAYS with their tasks, cached reports past REPORT_RETENTION_DAYS that no kept task holds,
// old not-found answers; and a check that no dead lookup row is left in the queue (the reaper fails their tasks and
// deletes them on every heartbeat: one seen here is logged as an error, for the reaper to take).
import type { Task } from "graphile-worker";
import type { Db } from "@/lib/db/client";
import { countDeadLookups } from "@/lib/db/queries/queue";
import { deleteExpiredJobBatch, deleteStaleNotFound, deleteStaleReports, listExpiredJobs } from "@/lib/db/queries/retention";
import { log } from "@/lib/log";

export const RETENTION_TASK = "retention";
/** Every day at 03:17 UTC (an odd minute, away from the hour's crowd). */
export const RETENTION_CRONTAB = `17 3 * * * ${RETENTION_TASK}`;

const BATCH = 10_000;

export interface RetentionSettings {
  jobDays: number;
  reportDays: number;
}

export interface RetentionRun {
  jobs: number;
  tasks: number;
  reports: number;
  notFound: number;
  deadLookups: number;
}

export async function runRetention(db: Db, settings: RetentionSettings): Promise<RetentionRun> {
  const run: RetentionRun = { jobs: 0, tasks: 0, reports: 0, notFound: 0, deadLookups: 0 };
  for (let ids = await listExpiredJobs(db, settings.jobDays, 100); ids.length > 0; ids = await listExpiredJobs(db, settings.jobDays, 100)) {
    let progressed = false;
    for (const id of ids) {
      for (;;) {
        const { tasks, jobDeleted } = await deleteExpiredJobBatch(db, id, BATCH);
        run.tasks += tasks;
        if (jobDeleted) run.jobs += 1;
        progressed ||= tasks > 0 || jobDeleted;
        if (tasks === 0) break;
      }
    }
    // Every listed job kept (each became pending again since): nothing more to do this run.
    if (!progressed) break;
  }
  for (let n = BATCH; n === BATCH; run.reports += n) n = await deleteStaleReports(db, settings.reportDays, BATCH);
  for (let n = BATCH; n === BATCH; run.notFound += n) n = await deleteStaleNotFound(db, settings.reportDays, BATCH);

  run.deadLookups = await countDeadLookups(db);
  if (run.deadLookups > 0) log.error({ event: "dead_lookups_found", count: run.deadLookups }, "Dead lookup rows are in the queue");
  return run;
}

export function createRetentionTask(db: Db, settings: RetentionSettings): Task {
  return async () => {
    const started = Date.now();
    const run = await runRetention(db, settings);
    log.info({ event: "retention", ...run, ms: Date.now() - started }, "Retention: old jobs, reports and not-found answers deleted");
  };
}
