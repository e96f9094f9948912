// A client's line in the queue (lib/db/queries/clients.ts, placeInLine) against cancel and retry racing it, and at
// the smallint cap: a client's small job is never stuck behind its own backlog, a retry neither.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createJob, type CreateJobOptions } from "../../lib/jobs/create";
import { cancelJob, retryFailedTasks } from "../../lib/jobs/manage";
import { captureLog } from "./helpers/log-capture";
import { createTestDatabase, type TestDatabase } from "./helpers/test-database";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase("client_lines");
});
afterAll(async () => t?.drop());

const limits = { jobsPerHour: 0, hashesPerDay: 0 };
const as = (id: string): CreateJobOptions => ({ cache: { ttlHours: 24, sources: ["simulator"] }, lookupMaxAttempts: 5, client: { id, limits } });
const hashes = (label: string, n: number) => Array.from({ length: n }, (_, i) => (label + i.toString(16).padStart(10, "0")).padEnd(32, "0"));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitForAdvisoryWaiters(n: number) {
  for (let i = 0; i < 200; i++) {
    const [{ c }] = await t.sql<{ c: number }[]>`
      select count(*)::int as c from pg_stat_activity where datname = current_database() and wait_event = 'advisory'`;
    if (c >= n) return;
    await sleep(25);
  }
  throw new Error(`never saw ${n} advisory waiters`);
}

/** Lookups graphile-worker would run before the job's first queued lookup (its order: priority, run_at, id). */
async function aheadOf(jobId: string) {
  const [row] = await t.sql<{ ahead: number; priority: number }[]>`
    with mine as (
      select min(array[j.priority::numeric, extract(epoch from j.run_at)::numeric, j.id::numeric]) as first
      from graphile_worker._private_jobs j join tasks t on j.key = 'lookup:' || t.hash
      where t.job_id = ${jobId} and t.status = 'pending'
    )
    select (select count(*)::int from graphile_worker._private_jobs j, mine
      where array[j.priority::numeric, extract(epoch from j.run_at)::numeric, j.id::numeric] < mine.first) as ahead,
      (select mine.first[1]::int from mine) as priority`;
  return row;
}

/** As if the worker had run every queued lookup below `priority`: rows gone, tasks completed. */
async function runBelow(priority: number) {
  await t.sql`
    with gone as (delete from graphile_worker._private_jobs where priority < ${priority} returning substr(key, 8) as hash)
    update tasks set status = 'not_found' where status = 'pending' and hash in (select hash from gone)`;
}

describe("lock order", () => {
  it("a job created while its client's older job is cancelled: both take the key space first, and neither deadlocks", async () => {
    const client = "address:192.0.2.10";
    const older = await createJob(t.db, { hashes: hashes("a1", 50) }, as(client));
    const log = captureLog();
    // A third session holds the key space so that both contenders queue for it in a known order.
    const holder = postgres(t.url, { max: 1, onnotice: () => {} });
    const held = holder.begin(async (sql) => {
      await sql`select pg_advisory_xact_lock(hashtext('hashscan:lookup-keys'))`; // queue.ts, lockKeySpace
      await sleep(1500);
    });
    await sleep(200);
    const created = createJob(t.db, { hashes: hashes("a2", 5) }, as(client)); // waits in placeInLine's lockKeySpace
    await waitForAdvisoryWaiters(1);
    const cancelled = cancelJob(t.db, older.id);
    await waitForAdvisoryWaiters(2);
    await held;
    await holder.end();
    const results = await Promise.allSettled([created, cancelled]);
    log.stop();
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled"]);
    // A deadlock would have been rolled back and run again (lib/db/retry.ts), and said so.
    expect(log.lines().filter((line) => line.includes("transaction_retried"))).toEqual([]);
  });

  it("the same with a retry of the older job's failed tasks", async () => {
    const client = "address:192.0.2.11";
    const older = await createJob(t.db, { hashes: hashes("b1", 50) }, as(client));
    await t.sql`update tasks set status = 'failed' where job_id = ${older.id} and position < 3`;
    const log = captureLog();
    const holder = postgres(t.url, { max: 1, onnotice: () => {} });
    const held = holder.begin(async (sql) => {
      await sql`select pg_advisory_xact_lock(hashtext('hashscan:lookup-keys'))`;
      await sleep(1500);
    });
    await sleep(200);
    const created = createJob(t.db, { hashes: hashes("b2", 5) }, as(client));
    await waitForAdvisoryWaiters(1);
    const retried = retryFailedTasks(t.db, older.id, 5);
    await waitForAdvisoryWaiters(2);
    await held;
    await holder.end();
    const results = await Promise.allSettled([created, retried]);
    log.stop();
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled"]);
    expect(log.lines().filter((line) => line.includes("transaction_retried"))).toEqual([]);
  });
});

describe("the line at the cap", () => {
  it("a client's small new job, once its big job's line is past the cap, starts where the queue stands", async () => {
    await t.sql`delete from graphile_worker._private_jobs`;
    const client = "address:192.0.2.20";
    const big = await createJob(t.db, { hashes: hashes("c1", 40_000) }, as(client));
    await runBelow(32767); // the first 32,767 lookups ran; 7,233 wait at priority 32767
    const small = await createJob(t.db, { hashes: hashes("c2", 3) }, as(client));
    const other = await createJob(t.db, { hashes: hashes("c3", 3) }, as("address:192.0.2.21"));
    // Not behind its own 7,233 waiting lookups: where the queue's next lookup is (the big job's first at the cap),
    // before the rest of them. Another client's new job, with nothing queued, goes first of all: its 3 lookups and
    // the big job's first are all that is ahead of the small job.
    expect((await aheadOf(other.id)).ahead).toBe(0);
    expect((await aheadOf(small.id)).ahead).toBe(4);
    expect((await aheadOf(big.id)).priority).toBe(32767);
  });

  it("a retry of a small job's failed lookups runs beside the client's big job, not behind it", async () => {
    await t.sql`delete from graphile_worker._private_jobs`;
    const client = "address:192.0.2.30";
    const small = await createJob(t.db, { hashes: hashes("d1", 3) }, as(client));
    await t.sql`delete from graphile_worker._private_jobs`;
    await t.sql`update tasks set status = 'failed', error = 'x' where job_id = ${small.id}`;
    const big = await createJob(t.db, { hashes: hashes("d2", 40_000) }, as(client));
    await retryFailedTasks(t.db, small.id, 5);
    // Every other place from the head of the client's line: one of the big job's lookups is ahead of it.
    expect((await aheadOf(small.id)).ahead).toBe(1);
    expect((await aheadOf(big.id)).ahead).toBe(0);
  });
});
