// Retention (worker/tasks/retention.ts): what ages out is deleted in batches, what is still needed stays.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createJob, type CreateJobOptions } from "../../lib/jobs/create";
import { findJob } from "../../lib/db/queries/jobs";
import { countQueuedLookups } from "../../lib/db/queries/queue";
import { deleteExpiredTasks, deleteStaleReports, expireJob, listExpiredJobs } from "../../lib/db/queries/retention";
import { retryFailedTasks } from "../../lib/jobs/manage";
import { runRetention } from "../../worker/tasks/retention";
import { startWorker, waitFor } from "./helpers/stack";
import { createTestDatabase, type TestDatabase } from "./helpers/test-database";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase("retention");
});
afterAll(async () => t?.drop());

const options: CreateJobOptions = { cache: { ttlHours: 24, sources: ["simulator"] }, lookupMaxAttempts: 5 };
const settings = { jobDays: 30, reportDays: 90 };
const md5 = (label: string, i: number) => `${label}${i.toString(16).padStart(32 - label.length, "0")}`;

/** A job whose tasks all ended (as lookups would end them), created `daysAgo` days ago. */
async function finishedJob(label: string, size: number, daysAgo: number, end: "completed" | "failed" = "failed") {
  const { id } = await createJob(t.db, { hashes: Array.from({ length: size }, (_, i) => md5(label, i)) }, options);
  await t.sql`delete from graphile_worker._private_jobs where key like ${`lookup:${label}%`}`;
  if (end === "failed") await t.sql`update tasks set status = 'failed', error = 'gave up' where job_id = ${id}`;
  else {
    await t.sql`
      update tasks set status = 'completed', sha256 = md5(hash) || md5(hash), md5 = hash, sha1 = left(md5(hash) || md5(hash), 40),
        source = 'simulator', detected = 1, engines = 60
      where job_id = ${id}`;
  }
  await t.sql`update jobs set created_at = now() - make_interval(days => ${daysAgo}) where id = ${id}`;
  return id;
}

describe("jobs", () => {
  it("deletes finished jobs past the retention with all their tasks and counts, a batch at a time", async () => {
    const old = await finishedJob("a1", 25_000, 31);
    const recent = await finishedJob("a2", 10, 29);
    const { id: pending } = await createJob(t.db, { hashes: [md5("a3", 0)] }, options);
    await t.sql`update jobs set created_at = now() - interval '400 days' where id = ${pending}`;

    const run = await runRetention(t.db, settings);
    expect(run).toMatchObject({ jobs: 1, tasks: 25_000 });
    const jobs = await t.sql<{ id: string }[]>`select id from jobs order by id`;
    expect(jobs.map((j) => j.id).sort()).toEqual([recent, pending].sort());
    const [left] = await t.sql<{ tasks: number; counts: number; deltas: number }[]>`
      select (select count(*)::int from tasks where job_id = ${old}) as tasks,
        (select count(*)::int from job_counts where job_id = ${old}) as counts,
        (select count(*)::int from job_count_deltas where job_id = ${old}) as deltas`;
    expect(left).toEqual({ tasks: 0, counts: 0, deltas: 0 });
    // A job still waiting for lookups is never deleted, however old: its tasks have no outcome yet.
    expect((await t.sql`select 1 from tasks where job_id = ${pending}`).length).toBe(1);
    expect(await runRetention(t.db, settings)).toMatchObject({ jobs: 0, tasks: 0 });
  });

  it("keeps a listed job whose failed task a retry made pending again before it was marked", async () => {
    const id = await finishedJob("a4", 3, 40);
    expect(await listExpiredJobs(t.db, settings.jobDays, 100)).toContain(id);
    expect(await retryFailedTasks(t.db, id, 5)).toEqual({ retried: 3 });
    expect(await expireJob(t.db, id)).toBe(false);
    expect(await findJob(t.db, id)).not.toBeNull();
    expect(await listExpiredJobs(t.db, settings.jobDays, 100)).not.toContain(id);
  });

  it("makes a job gone for readers and managers the moment it is marked, and a later run finishes one left half-deleted", async () => {
    const id = await finishedJob("a5", 300, 40);
    expect(await expireJob(t.db, id)).toBe(true);
    // Marked: no report, no retry (a retry would reopen tasks retention is deleting).
    expect(await findJob(t.db, id)).toBeNull();
    await expect(retryFailedTasks(t.db, id, 5)).rejects.toMatchObject({ code: "not_found" });
    // A run cut off after one range of tasks...
    expect(await deleteExpiredTasks(t.db, id, 0, 100)).toBe(100);
    // ...is finished by the next.
    expect(await runRetention(t.db, settings)).toMatchObject({ jobs: 1, tasks: 200 });
    expect(await t.sql`select 1 from jobs where id = ${id}`).toHaveLength(0);
    expect(await t.sql`select 1 from tasks where job_id = ${id}`).toHaveLength(0);
  });
});

describe("cached reports and not-found answers", () => {
  it("deletes reports past their retention unless a kept task holds them, and old not-found answers", async () => {
    const kept = await finishedJob("b1", 1, 1, "completed");
    const [{ sha256: held }] = await t.sql<{ sha256: string }[]>`select sha256 from tasks where job_id = ${kept}`;
    const report = (sha256: string, daysAgo: number) => t.sql`
      insert into reports (sha256, md5, sha1, source, fetched_at, detected, engines, raw)
      values (${sha256}, ${sha256.slice(0, 32)}, ${sha256.slice(0, 40)}, 'simulator', now() - make_interval(days => ${daysAgo}), 0, 60, '{}')`;
    await report(held, 200); // old, but a kept job's result cites it
    await report("c".repeat(64), 91); // old, cited by nobody
    await report("d".repeat(64), 89); // not old enough
    await t.sql`
      insert into not_found_hashes (hash, source, checked_at) values
        (${"e".repeat(32)}, 'simulator', now() - interval '91 days'), (${"f".repeat(32)}, 'simulator', now())`;

    expect(await runRetention(t.db, settings)).toMatchObject({ reports: 1, notFound: 1 });
    const reports = await t.sql<{ sha256: string }[]>`select sha256 from reports order by sha256`;
    expect(reports.map((r) => r.sha256)).toEqual([held, "d".repeat(64)].sort());
    expect((await t.sql`select hash from not_found_hashes`).map((r) => r.hash)).toEqual(["f".repeat(32)]);
  });
});

describe("the walk through old reports", () => {
  it("passes each cited report once, a batch at a time, and ends", async () => {
    const kept = await finishedJob("b2", 2, 1, "completed");
    const cited = (await t.sql<{ sha256: string }[]>`select sha256 from tasks where job_id = ${kept}`).map((r) => r.sha256);
    const all = [...cited, "1".repeat(64), "2".repeat(64), "3".repeat(64)];
    for (const [i, sha256] of all.entries()) {
      await t.sql`
        insert into reports (sha256, md5, sha1, source, fetched_at, detected, engines, raw)
        values (${sha256}, ${sha256.slice(0, 32)}, ${sha256.slice(0, 40)}, 'simulator', now() - make_interval(days => ${300 + i}), 0, 60, '{}')`;
    }
    const [{ old }] = await t.sql<{ old: number }[]>`select count(*)::int as old from reports where fetched_at < now() - interval '90 days'`;
    let last = null;
    let deleted = 0;
    let batches = 0;
    do {
      const batch = await deleteStaleReports(t.db, settings.reportDays, 1, last);
      deleted += batch.deleted;
      last = batch.last;
      batches++;
    } while (last);
    // Every old report (an earlier test's cited one too) looked at once, one per batch, then a batch that finds none.
    expect({ deleted, batches }).toEqual({ deleted: 3, batches: old + 1 });
    const left = await t.sql<{ sha256: string }[]>`select sha256 from reports where sha256 = any(${all})`;
    expect(left.map((r) => r.sha256).sort()).toEqual([...cited].sort());
  });
});

describe("the queue check", () => {
  it("leaves the retention task out of the lookups counted as queued", async () => {
    const before = await countQueuedLookups(t.db);
    await t.sql`select graphile_worker.add_job('retention', '{}'::json, run_at => now() + interval '1 day')`;
    expect(await countQueuedLookups(t.db)).toBe(before);
    await t.sql`delete from graphile_worker._private_jobs j using graphile_worker._private_tasks k where k.id = j.task_id and k.identifier = 'retention'`;
  });

  it("counts dead lookup rows left in the queue (there are none once the reaper has run)", async () => {
    expect((await runRetention(t.db, settings)).deadLookups).toBe(0);
    await createJob(t.db, { hashes: [md5("d1", 0)] }, options);
    await t.sql`update graphile_worker._private_jobs set attempts = max_attempts where key = ${`lookup:${md5("d1", 0)}`}`;
    expect((await runRetention(t.db, settings)).deadLookups).toBe(1);
  });
});

describe("the schedule", () => {
  it("is registered with graphile-worker's cron when a worker starts", { timeout: 60_000 }, async () => {
    const worker = startWorker({ DATABASE_URL: t.url });
    try {
      const known = await waitFor("the worker's crontab to be known", async () => {
        const rows = await t.sql<{ identifier: string }[]>`select identifier from graphile_worker._private_known_crontabs`;
        return rows.length > 0 ? rows : null;
      });
      expect(known.map((row) => row.identifier)).toEqual(["retention"]);
    } finally {
      await worker.stop();
    }
  });
});
