// The queue past the smallint cap (RANK_TIME), a retry beside its own job, and the lock a cancel takes on its job:
// cases a cold review found wrong, each asserting what is right now.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createJob, type CreateJobOptions } from "../../lib/jobs/create";
import { cancelJob, retryFailedTasks } from "../../lib/jobs/manage";
import { settle, type LookupRun } from "../../worker/settle";
import { createTestDatabase, type TestDatabase } from "./helpers/test-database";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase("queue_at_cap");
});
afterAll(async () => t?.drop());

const limits = { jobsPerHour: 0, hashesPerDay: 0 };
const base: CreateJobOptions = { cache: { ttlHours: 24, sources: ["simulator"] }, lookupMaxAttempts: 5 };
const as = (id: string): CreateJobOptions => ({ ...base, client: { id, limits } });
const hashes = (label: string, n: number) => Array.from({ length: n }, (_, i) => (label + i.toString(16).padStart(10, "0")).padEnd(32, "0"));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Rows graphile-worker would run before this hash's row: its order is (priority, run_at, id), due rows only. */
async function ahead(hash: string) {
  const [row] = await t.sql<{ ahead: number; priority: number; run_at: string }[]>`
    with me as (select priority, run_at, id from graphile_worker._private_jobs where key = ${"lookup:" + hash})
    select (select count(*)::int from graphile_worker._private_jobs j, me
            where j.run_at <= now() and (j.priority, j.run_at, j.id) < (me.priority, me.run_at, me.id)) as ahead,
      me.priority, me.run_at::text from me`;
  return row;
}

async function runningAs(hash: string, pool: string): Promise<LookupRun> {
  const [row] = await t.sql<{ id: string; attempts: number }[]>`
    update graphile_worker._private_jobs set locked_by = ${pool}, locked_at = now(), attempts = attempts + 1
    where key = ${`lookup:${hash}`} returning id::text, attempts`;
  return { hash, lock: { jobId: row.id, lockedBy: pool, attempts: row.attempts }, holder: `${pool}/${row.id}`, attempt: 1, maxAttempts: 5 };
}

async function waitForLockWaiters(n: number) {
  for (let i = 0; i < 400; i++) {
    const [{ c }] = await t.sql<{ c: number }[]>`
      select count(*)::int as c from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`;
    if (c >= n) return;
    await sleep(10);
  }
  throw new Error(`never saw ${n} lock waiters`);
}

describe("RANK_TIME at the cap", () => {
  it("a lookup at the cap that waited once comes back ahead of the cap, not behind every rank there", { timeout: 60_000 }, async () => {
    await t.sql`delete from graphile_worker._private_jobs`;
    const a = hashes("e1", 40_000);
    await createJob(t.db, { hashes: a }, as("address:198.51.100.1"));
    const mine = a[33_000]; // rank 33,000: at the cap, run_at 2000-01-01 + 233 µs
    const before = await ahead(mine);
    const run = await runningAs(mine, "pool-cap-1");
    // The window turns it away for 20 ms (slot-wait.ts windowWait): back in the queue at its own priority.
    await settle({ db: t.db, budget: "simulator" }, run, {
      kind: "wait", until: new Date(Date.now() + 20), waitingFor: { for: "window", budget: "simulator" }, attempt: 1,
    });
    await sleep(100);
    const afterWait = await ahead(mine);
    // Another client's job queued later, whose ranks past the cap are all behind rank 33,000.
    await createJob(t.db, { hashes: hashes("e2", 40_000) }, as("address:198.51.100.2"));
    const afterOther = await ahead(mine);
    expect(before.ahead).toBe(33_000);
    // Just ahead of the cap (queue.ts, requeueLookup): behind its job's ranks below it only.
    expect(afterWait.priority).toBe(32_766);
    expect(afterWait.ahead).toBe(32_767);
    // A job queued later passes it only with its ranks below the cap, not with its 7,233 at the cap.
    expect(afterOther.ahead).toBe(32_767 + 32_767);
  });

  it("a row interleaveLine pushes past the cap keeps its rank there, among other clients' ranks", { timeout: 60_000 }, async () => {
    await t.sql`delete from graphile_worker._private_jobs`;
    const x = hashes("f1", 32_000);
    await createJob(t.db, { hashes: x }, as("address:198.51.100.3"));
    await createJob(t.db, { hashes: hashes("f2", 40_000) }, as("address:198.51.100.4")); // ranks 32,767..39,999 at the cap
    await createJob(t.db, { hashes: hashes("f3", 5_000) }, as("address:198.51.100.3")); // x's rows from 5,000 on move by 5,000
    const last = await ahead(x[31_999]); // rank 31,999 moved to 36,999: clamped to 32,767 with run_at + 0
    const [{ behind }] = await t.sql<{ behind: number }[]>`
      select count(*)::int as behind from graphile_worker._private_jobs j
      where j.key like 'lookup:f2%' and j.priority = 32767 and j.run_at > ${last.run_at}::timestamptz`;
    expect(last.priority).toBe(32767);
    // Its rank past the cap is in its run_at: the other client's lower ranks at the cap run before it (it used to
    // run before all 7,233 of them).
    expect(behind).toBeGreaterThan(0);
    expect(behind).toBeLessThanOrEqual(3_300);
  });
});

describe("a retry in its client's line", () => {
  it("takes places of its own beside its job's lookups still queued: never two of one client at one priority", { timeout: 60_000 }, async () => {
    await t.sql`delete from graphile_worker._private_jobs`;
    const client = "address:198.51.100.9";
    await createJob(t.db, { hashes: hashes("e9", 100) }, as(client));
    const x = await createJob(t.db, { hashes: hashes("f9", 100) }, as(client)); // x at odd ranks 1..199
    // Ranks below 40 ran; x's first 10 failed, the rest not found.
    await t.sql`
      with gone as (delete from graphile_worker._private_jobs where priority < 40 returning substr(key, 8) as hash)
      update tasks set status = 'not_found' where status = 'pending' and hash in (select hash from gone)`;
    await t.sql`update tasks set status = 'failed', error = 'x' where job_id = ${x.id} and position < 10`;
    await retryFailedTasks(t.db, x.id, 5);
    const dups = await t.sql<{ priority: number; n: number }[]>`
      select j.priority, count(*)::int as n from graphile_worker._private_jobs j
      join tasks tk on j.key = 'lookup:' || tk.hash and tk.job_id = ${x.id}
      group by j.priority having count(*) > 1 order by j.priority`;
    expect(dups).toEqual([]);
  });
});

describe("lock order: a cancel's lock on its job against a settle's count delta (FOR KEY SHARE)", () => {
  it("do not deadlock: the cancel holds the job FOR NO KEY UPDATE", { timeout: 60_000 }, async () => {
    const [h, g] = hashes("ab", 2);
    const job = await createJob(t.db, { hashes: [h, g] }, base);
    const run = await runningAs(h, "pool-cancel-1");
    const deadlocksNow = async () => {
      await sleep(1200); // the statistics are flushed at most once a second
      const [{ n }] = await t.sql<{ n: number }[]>`select deadlocks::int as n from pg_stat_database where datname = current_database()`;
      return n;
    };
    const deadlocksBefore = await deadlocksNow();
    // Hold the task row so that settle stops after taking its own queue row, before its tasks update.
    const holder = postgres(t.url, { max: 1, onnotice: () => {} });
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const held = holder.begin(async (sql) => {
      await sql`select 1 from tasks where job_id = ${job.id} and hash = ${h} for update`;
      await released;
    });
    await sleep(100);
    const settling = settle({ db: t.db, budget: "simulator" }, run, { kind: "not_found", fromCache: false });
    await waitForLockWaiters(1); // settle: holds its row, waits for the task row
    const cancelling = cancelJob(t.db, job.id); // key space, job row FOR UPDATE, then waits for settle's row
    await waitForLockWaiters(2);
    release();
    await held;
    await holder.end();
    const results = await Promise.allSettled([settling, cancelling]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled"]);
    expect(await deadlocksNow()).toBe(deadlocksBefore);
  });
});
