// The daily clean-up, run by graphile-worker's cron (worker/index.ts) once per day across every worker: finished
// jobs past JOB_RETENTION_DAYS with their tasks, cached reports past REPORT_RETENTION_DAYS that no kept task holds,
// old not-found answers, idempotency keys past their day; and a check that no dead lookup row is left in the queue (the reaper fails their tasks and
// deletes them on every heartbeat: one seen here is logged as an error, for the reaper to take).
import type { Task } from "graphile-worker";
import type { Db } from "@/lib/db/client";
import { deleteStaleKeys } from "@/lib/db/queries/idempotency";
import { countDeadLookups } from "@/lib/db/queries/queue";
import {
  deleteExpiredJob,
  deleteExpiredTasks,
  deleteStaleNotFound,
  deleteStaleReports,
  expireJob,
  listExpiredJobs,
  listExpiringJobs,
  type ReportKey,
} from "@/lib/db/queries/retention";
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
  idempotencyKeys: number;
  deadLookups: number;
}

export async function runRetention(db: Db, settings: RetentionSettings): Promise<RetentionRun> {
  const run: RetentionRun = { jobs: 0, tasks: 0, reports: 0, notFound: 0, idempotencyKeys: 0, deadLookups: 0 };

  // First mark every job due (each then reads as gone), then delete the marked ones, a range of tasks at a time.
  // A run a crash interrupted left its marked jobs behind: the next run finishes them.
  for (let ids = await listExpiredJobs(db, settings.jobDays, 100); ids.length > 0; ids = await listExpiredJobs(db, settings.jobDays, 100)) {
    let marked = 0;
    for (const id of ids) if (await expireJob(db, id)) marked++;
    // Every listed job kept (a retry reopened each since): none is due any more this run.
    if (marked === 0) break;
  }
  for (let jobs = await listExpiringJobs(db, 100); jobs.length > 0; jobs = await listExpiringJobs(db, 100)) {
    for (const job of jobs) {
      for (let from = 0; from < job.total; from += BATCH) run.tasks += await deleteExpiredTasks(db, job.id, from, BATCH);
      if (await deleteExpiredJob(db, job.id)) run.jobs++;
    }
  }

  let last: ReportKey | null = null;
  do {
    const batch: { deleted: number; last: ReportKey | null } = await deleteStaleReports(db, settings.reportDays, BATCH, last);
    run.reports += batch.deleted;
    last = batch.last;
  } while (last);
  let deleted: number;
  do {
    deleted = await deleteStaleNotFound(db, settings.reportDays, BATCH);
    run.notFound += deleted;
  } while (deleted === BATCH);

  // Keys past their day answer nothing any more (findKeptRequest reads only fresh ones): kept only until this run.
  do {
    deleted = await deleteStaleKeys(db, BATCH);
    run.idempotencyKeys += deleted;
  } while (deleted === BATCH);

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
