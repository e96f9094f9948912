// The lookup queue at its edges, straight against Postgres (issue 6): concurrent creation, dead rows, cancel racing
// a new job, the reaper, fencing, priorities, resuming after a pause, report sources, the limiter's clock, the
// gate, and lease waiters. Each case sets up the exact row state a race or a crash leaves behind.
import { readFileSync } from "node:fs";
import { sql as dsql } from "drizzle-orm";
import { Logger, runOnce } from "graphile-worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBudgetGate } from "../../lib/budget/gate";
import { resumeLookupsAtStart } from "../../lib/budget/resume";
import { acquireRequestSlot } from "../../lib/budget/slot";
import { startPause } from "../../lib/db/queries/budget";
import { countQueuedLookups, requeueLookup } from "../../lib/db/queries/queue";
import { findFreshReport, saveReport, type CachePolicy } from "../../lib/db/queries/reports";
import { retryingTransaction } from "../../lib/db/retry";
import { createJob, type CreateJobOptions } from "../../lib/jobs/create";
import { cancelJob } from "../../lib/jobs/manage";
import type { LookupWait } from "../../lib/lookups/job";
import { getJobReport } from "../../lib/jobs/report";
import { fileReportSchema, summarizeReport } from "../../lib/virustotal";
import { reap } from "../../worker/reaper";
import { FencedError, settle, type LookupRun } from "../../worker/settle";
import { createTestDatabase, type TestDatabase } from "./helpers/test-database";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase("queue_edges");
});
afterAll(async () => t?.drop());

const cache: CachePolicy = { ttlHours: 24, sources: ["virustotal", "simulator"] };
const options: CreateJobOptions = { cache, lookupMaxAttempts: 5 };
const quietLogger = new Logger(() => () => {});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** A distinct MD5-shaped name per (label, i). */
const md5 = (label: string, i = 0) => (label + i.toString(16).padStart(8, "0")).padEnd(32, "0").slice(0, 32);

interface Row {
  id: string;
  key: string | null;
  priority: number;
  attempts: number;
  max_attempts: number;
  locked_by: string | null;
  payload: { hash: string; attempt?: number; waitingFor?: { for: string } };
  due_now: boolean;
}
const rowsOf = (hash: string) => t.sql<Row[]>`
  select id::text, key, priority, attempts, max_attempts, locked_by, payload, run_at <= now() as due_now
  from graphile_worker._private_jobs where payload->>'hash' = ${hash} order by id`;
const keyedRow = async (hash: string) => (await rowsOf(hash)).find((row) => row.key === `lookup:${hash}`);
const taskStatuses = async (jobId: string) =>
  (await t.sql<{ status: string }[]>`select status from tasks where job_id = ${jobId} order by position`).map((r) => r.status);

/** Marks a hash's row as fetched by `pool`, as graphile-worker's getJob does (attempts + 1), and returns the run. */
async function runningAs(hash: string, pool: string, opts: { lockedAgo?: string } = {}): Promise<LookupRun> {
  const [row] = await t.sql<{ id: string; attempts: number }[]>`
    update graphile_worker._private_jobs
    set locked_by = ${pool}, locked_at = now() - ${opts.lockedAgo ?? "0 seconds"}::interval, attempts = attempts + 1
    where key = ${`lookup:${hash}`} returning id::text, attempts`;
  return { hash, lock: { jobId: row.id, lockedBy: pool, attempts: row.attempts }, holder: `${pool}/${row.id}`, attempt: 1, maxAttempts: 5 };
}

const fixture = fileReportSchema.parse(
  JSON.parse(readFileSync("tests/fixtures/vt/001015aafcae8a6942366cbb0e7d39c0738752a7800c41ea1c655d47b0a4d04c.json", "utf8")),
);
const summary = summarizeReport(fixture);

describe("1. concurrent creation", () => {
  it("two jobs with the same 20,000 new hashes in opposite orders both succeed, sharing one lookup per hash", { timeout: 120_000 }, async () => {
    for (let round = 0; round < 3; round++) {
      const hashes = Array.from({ length: 20_000 }, (_, i) => md5(`c${round}`, i));
      const [a, b] = await Promise.all([
        createJob(t.db, { hashes }, options),
        createJob(t.db, { hashes: [...hashes].reverse() }, options),
      ]);
      expect([a.queued, b.queued]).toEqual([20_000, 20_000]);
      const [row] = await t.sql<{ n: number; keys: number }[]>`
        select count(*)::int as n, count(distinct key)::int as keys from graphile_worker._private_jobs
        where key like ${`lookup:c${round}%`}`;
      expect(row).toEqual({ n: 20_000, keys: 20_000 });
    }
  });

  it("runs a transaction again when Postgres rolls it back for a deadlock, instead of failing", async () => {
    await t.sql`create table deadlock_probe (id int primary key, n int not null default 0)`;
    await t.sql`insert into deadlock_probe (id) values (1), (2)`;
    let tries = 0;
    const crossing = (first: number, second: number) =>
      retryingTransaction(t.db, async (tx) => {
        tries++;
        await tx.execute(dsql`update deadlock_probe set n = n + 1 where id = ${first}`);
        await sleep(300);
        await tx.execute(dsql`update deadlock_probe set n = n + 1 where id = ${second}`);
      });
    await Promise.all([crossing(1, 2), crossing(2, 1)]);
    // One of the two was the deadlock's victim and ran a second time; both committed exactly once.
    expect(tries).toBe(3);
    expect(await t.sql`select id, n from deadlock_probe order by id`).toEqual([{ id: 1, n: 2 }, { id: 2, n: 2 }]);
  });
});

describe("2. a dead queue row", () => {
  it("never stands for a hash: a new job gets a live lookup, and counts leave the dead row out", async () => {
    const hash = md5("d2");
    const first = await createJob(t.db, { hashes: [hash] }, options);
    // As graphile-worker leaves a job that failed its last attempt: unlocked, out of attempts, key kept.
    await t.sql`update graphile_worker._private_jobs set attempts = max_attempts where key = ${`lookup:${hash}`}`;
    const queuedBefore = await countQueuedLookups(t.db);

    const second = await createJob(t.db, { hashes: [hash] }, options);
    expect(second.queued).toBe(1);
    const live = await keyedRow(hash);
    expect(live?.attempts).toBe(0);
    expect(await countQueuedLookups(t.db)).toBe(queuedBefore + 1);

    // The reaper clears the dead row away; the live one serves both jobs.
    await reap(t.db, 3);
    expect((await rowsOf(hash)).map((row) => row.id)).toEqual([live!.id]);
    expect(await taskStatuses(first.id)).toEqual(["pending"]);
    expect(await taskStatuses(second.id)).toEqual(["pending"]);
  });

  it("that still holds its key fails its tasks with the reason when the reaper finds it", async () => {
    const hash = md5("d2b");
    const job = await createJob(t.db, { hashes: [hash] }, options);
    await t.sql`
      update graphile_worker._private_jobs set attempts = max_attempts, last_error = 'boom' where key = ${`lookup:${hash}`}`;
    expect(await reap(t.db, 3)).toMatchObject({ failed: [hash] });
    expect(await rowsOf(hash)).toEqual([]);
    const [task] = await t.sql`select status, error from tasks where job_id = ${job.id}`;
    expect(task).toEqual({ status: "failed", error: "Gave up after 5 attempts: internal error" });
  });
});

describe("3. cancel racing a new job", () => {
  it("keeps a lookup that a job being created at the same moment needs", async () => {
    const hash = md5("a3a");
    const old = await createJob(t.db, { hashes: [hash] }, options);
    let cancelling: Promise<unknown> | undefined;
    const fresh = await createJob(t.db, { hashes: [hash] }, {
      ...options,
      // The new job holds the shared row; the cancel starts now and must wait for it, then see its task.
      beforeCommit: async () => {
        cancelling = cancelJob(t.db, old.id);
        await sleep(500);
      },
    });
    await cancelling;
    expect(await taskStatuses(old.id)).toEqual(["cancelled"]);
    expect(await taskStatuses(fresh.id)).toEqual(["pending"]);
    expect(await keyedRow(hash)).toMatchObject({ attempts: 0, locked_by: null });
  });

  it("removes the lookup when no other job wants it", async () => {
    const hash = md5("a3b");
    const job = await createJob(t.db, { hashes: [hash] }, options);
    expect(await cancelJob(t.db, job.id)).toEqual({ cancelled: 1 });
    expect(await rowsOf(hash)).toEqual([]);
  });

  it("cancels a 100,000-hash job planned on statistics from before it, in seconds rather than past the statement timeout", { timeout: 150_000 }, async () => {
    // A deployment's first big upload: the statistics were taken when tasks held a single one.
    const fresh = await createTestDatabase("cancel_stats");
    try {
      await fresh.sql`alter table tasks set (autovacuum_enabled = false)`;
      await createJob(fresh.db, { hashes: [md5("a3d")] }, options);
      await fresh.sql`analyze tasks`;
      const job = await createJob(fresh.db, { hashes: Array.from({ length: 100_000 }, (_, i) => md5("a3c", i)) }, options);
      // Planned as an anti join rescanning the pending index for every hash, this took over 5 minutes.
      expect(await cancelJob(fresh.db, job.id)).toEqual({ cancelled: 100_000 });
      const [{ n }] = await fresh.sql<{ n: number }[]>`select count(*)::int as n from graphile_worker._private_jobs where key like 'lookup:a3c%'`;
      expect(n).toBe(0);
    } finally {
      await fresh.drop();
    }
  });
});

describe("6. a lookup nobody wanted, as a job that wants it is created", () => {
  it("queues itself again instead of leaving the new job's task without a lookup", async () => {
    const hash = md5("a6a");
    const old = await createJob(t.db, { hashes: [hash] }, options);
    const run = await runningAs(hash, "pool-a6");
    await cancelJob(t.db, old.id); // the running row stays: its lookup will find nobody waiting
    let settling: Promise<unknown> | undefined;
    const fresh = await createJob(t.db, { hashes: [hash] }, {
      ...options,
      // The lookup settles as "unwanted" (decided before this job existed) while the job holds its row.
      beforeCommit: async () => {
        settling = settle({ db: t.db, budget: "simulator" }, run, { kind: "unwanted" });
        await sleep(500);
      },
    });
    await settling;
    expect(await taskStatuses(fresh.id)).toEqual(["pending"]);
    expect(await keyedRow(hash)).toMatchObject({ locked_by: null, due_now: true });
  });

  it("a lookup that settles its answer as a job that wants it is created ends that job's task too", async () => {
    const hash = md5("a6b");
    const old = await createJob(t.db, { hashes: [hash] }, options);
    const run = await runningAs(hash, "pool-a6b");
    let settling: Promise<unknown> | undefined;
    const fresh = await createJob(t.db, { hashes: [hash] }, {
      ...options,
      // The settle's check of its row waits for this job's commit; its writes after it then see the new task.
      beforeCommit: async () => {
        settling = settle({ db: t.db, budget: "simulator" }, run, { kind: "not_found", fromCache: false });
        await sleep(500);
      },
    });
    await settling;
    expect(await taskStatuses(old.id)).toEqual(["not_found"]);
    expect(await taskStatuses(fresh.id)).toEqual(["not_found"]);
    expect(await rowsOf(hash)).toEqual([]);
  });
});

describe("4. the reaper", () => {
  it("does not fail the tasks of a dead pool's lookup whose key moved to a newer row", async () => {
    const hash = md5("b4b");
    const job = await createJob(t.db, { hashes: [hash] }, options);
    const run = await runningAs(hash, "pool-gone-4", { lockedAgo: "1 hour" });
    // add_job with the key while the row runs: graphile-worker moves the key to a new row and spends the old one.
    await t.sql`select graphile_worker.add_job('lookup', json_build_object('hash', ${hash}::text), job_key := ${`lookup:${hash}`})`;
    const reaped = await reap(t.db, 3);
    expect(reaped.pools).toContain("pool-gone-4");
    expect(reaped.failed).not.toContain(hash);
    expect(await taskStatuses(job.id)).toEqual(["pending"]);
    const rows = await rowsOf(hash);
    expect(rows.map((row) => row.id)).not.toContain(run.lock.jobId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ key: `lookup:${hash}`, locked_by: null });
  });
});

describe("5. fencing", () => {
  it("a lookup whose row was taken over writes nothing and deletes nothing", async () => {
    const hash = summary.md5;
    const job = await createJob(t.db, { hashes: [hash] }, { ...options, cache: { ttlHours: 24, sources: [] } });
    const stale = await runningAs(hash, "pool-silent-5");
    // Released by the reaper and fetched again by another pool while the first one was silent.
    await t.sql`update graphile_worker._private_jobs set locked_by = null, locked_at = null where id = ${stale.lock.jobId}`;
    const current = await runningAs(hash, "pool-live-5");

    const outcome = { kind: "completed" as const, report: summary, source: "simulator" as const, fromCache: false };
    await expect(settle({ db: t.db, budget: "simulator" }, stale, outcome)).rejects.toBeInstanceOf(FencedError);
    expect(await taskStatuses(job.id)).toEqual(["pending"]);
    expect(await rowsOf(hash)).toMatchObject([{ id: current.lock.jobId, locked_by: "pool-live-5" }]);

    await settle({ db: t.db, budget: "simulator" }, current, outcome);
    expect(await taskStatuses(job.id)).toEqual(["completed"]);
    expect(await rowsOf(hash)).toEqual([]);
  });

  it("fences a run taken over by its own pool (fetched again after a silence) too", async () => {
    const hash = md5("a5a");
    await createJob(t.db, { hashes: [hash] }, options);
    const stale = await runningAs(hash, "pool-same-5");
    await t.sql`update graphile_worker._private_jobs set locked_by = null, locked_at = null where id = ${stale.lock.jobId}`;
    await runningAs(hash, "pool-same-5"); // the same pool, attempts 2
    const error = await settle({ db: t.db, budget: "simulator" }, stale, { kind: "unwanted" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FencedError);
    expect(await rowsOf(hash)).toMatchObject([{ locked_by: "pool-same-5", attempts: 2 }]);
  });
});

describe("8. a worker's start", () => {
  it("wakes only the lookups waiting for the pause that ended or for another key's budget", async () => {
    const later = new Date(Date.now() + 3_600_000);
    const waits = {
      backoff: { for: "backoff" },
      badKey: { for: "pause", budget: "vt:mine", cause: "bad_key" },
      daily: { for: "pause", budget: "vt:mine", cause: "daily_limit" },
      oldKey: { for: "pause", budget: "vt:old", cause: "quota" },
      oldWindow: { for: "window", budget: "vt:old" },
      lease: { for: "lease" },
    } as const;
    for (const [name, waitingFor] of Object.entries(waits)) {
      await requeueLookup(t.db, { payload: { hash: md5(`w8${name.length}${name[0]}`), attempt: 2, waitingFor }, runAt: later, priority: 3, maxAttempts: 5 });
    }
    await startPause(t.db, "vt:mine", { until: later, cause: "bad_key", reason: "rejected" });
    expect(await resumeLookupsAtStart(t.db, "vt:mine")).toBe(3);
    const due = async (name: keyof typeof waits) => (await rowsOf(md5(`w8${name.length}${name[0]}`)))[0].due_now;
    expect([await due("badKey"), await due("oldKey"), await due("oldWindow")]).toEqual([true, true, true]);
    expect([await due("backoff"), await due("daily"), await due("lease")]).toEqual([false, false, false]);
    expect(await t.sql`select budget from vt_pause where budget = 'vt:mine'`).toEqual([]);
  });
});

describe("9. report sources and finished tasks", () => {
  it("keeps VirusTotal's report beside a simulated one, and a finished task keeps the result it was given", async () => {
    await saveReport(t.db, summary, fixture, "virustotal");
    await saveReport(t.db, { ...summary, detected: 1, fortinet: null }, {}, "simulator");
    expect(await findFreshReport(t.db, summary.sha1, cache)).toMatchObject({ source: "virustotal", detected: 53 });

    const job = await createJob(t.db, { hashes: [summary.sha256] }, options);
    const shown = async () => (await getJobReport(t.db, job.id, { limit: 10 }))!.results[0];
    expect(await shown()).toMatchObject({ status: "completed", detected: 53, fortinet: "WM/Moat.81C2F10E!tr" });
    // A later report of the same file (a rescan) does not rewrite the finished job.
    await saveReport(t.db, { ...summary, detected: 60 }, fixture, "virustotal");
    expect(await shown()).toMatchObject({ detected: 53 });
  });
});

describe("10. priority", () => {
  it("a running lookup that must wait keeps the better priority a newer job gave it", async () => {
    const hash = md5("f10");
    const fillers = Array.from({ length: 5 }, (_, i) => md5("f1f", i));
    await createJob(t.db, { hashes: [...fillers, hash] }, options); // rank 5
    const run = await runningAs(hash, "pool-p10");
    await createJob(t.db, { hashes: [hash] }, options); // rank 0: moves the running row up
    const retryAt = new Date(Date.now() + 60_000);
    await settle({ db: t.db, budget: "simulator" }, run, {
      kind: "wait",
      until: retryAt,
      waitingFor: { for: "backoff" },
      attempt: 2,
      note: "VirusTotal is unavailable (attempt 1 of 5)",
    });
    const rows = await rowsOf(hash);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ key: `lookup:${hash}`, priority: 0, locked_by: null, due_now: false, payload: { hash, attempt: 2 } });
  });
});

describe("11. the limiter's clock", () => {
  it("records a request at the time after the lock, not when the transaction began", async () => {
    const limits = { perMinute: 10, perDay: 100, perMonth: 1000, windowSeconds: 60 };
    let releasedAt = 0;
    const holder = t.sql.begin(async (sql) => {
      await sql`select pg_advisory_xact_lock(hashtext('hashscan:vt-budget:' || 'vt:clock'))`;
      await sleep(1500);
      releasedAt = Date.now();
    });
    await sleep(200);
    expect(await acquireRequestSlot(t.db, "vt:clock", limits)).toEqual({ granted: true });
    await holder;
    const [row] = await t.sql<{ at: Date }[]>`select at from vt_requests where budget = 'vt:clock'`;
    expect(row.at.getTime()).toBeGreaterThanOrEqual(releasedAt - 50);
  });

  it("keeps the requests of the longest window allowed while a process with a short one claims", async () => {
    const long = { perMinute: 2, perDay: 100, perMonth: 1000, windowSeconds: 299 };
    await t.sql`insert into vt_requests (budget, at) values ('vt:long', now() - interval '290 seconds')`;
    expect(await acquireRequestSlot(t.db, "vt:long", { ...long, windowSeconds: 60 })).toEqual({ granted: true });
    // The short window's claim forgot nothing the long window still counts: 2 of 2.
    expect(await acquireRequestSlot(t.db, "vt:long", long)).toMatchObject({ granted: false, cause: "window" });
  });
});

describe("12. the gate", () => {
  it("notices within seconds that another process lifted the pause it remembers", async () => {
    let clock = Date.now();
    const gate = createBudgetGate({ db: t.db, budget: "vt:gate", now: () => clock });
    const until = new Date(Date.now() + 3_600_000);
    await startPause(t.db, "vt:gate", { until, cause: "bad_key", reason: "rejected" });
    gate.closeForPause(until);
    expect(await gate.forbiddenFlags()).toEqual(["vt", "vt-wake"]);
    await t.sql`delete from vt_pause where budget = 'vt:gate'`;
    clock += 1000;
    expect(await gate.forbiddenFlags()).toEqual(["vt", "vt-wake"]); // not looked again yet
    clock += 1500;
    expect(await gate.forbiddenFlags()).toBeNull();
  });

  it("closed for the window, lets graphile-worker fetch the lookups handed a wake time, and none during a pause", async () => {
    const gate = createBudgetGate({ db: t.db, budget: "vt:gate2" });
    const due = new Date(Date.now() - 1000);
    const queue = (hash: string, waitingFor?: LookupWait) =>
      requeueLookup(t.db, { payload: { hash, attempt: 1, waitingFor }, runAt: due, priority: 0, maxAttempts: 5 });
    const woken = md5("g12w"), backedOff = md5("g12b"), fresh = md5("g12f");
    await queue(woken, { for: "window", budget: "vt:gate2" });
    await queue(backedOff, { for: "backoff" });
    await queue(fresh);
    const flags = await t.sql<{ hash: string; flags: Record<string, true> }[]>`
      select payload->>'hash' as hash, flags from graphile_worker._private_jobs where payload->>'hash' in (${woken}, ${backedOff}, ${fresh})`;
    expect(Object.fromEntries(flags.map((row) => [row.hash, row.flags]))).toEqual({ [woken]: { "vt-wake": true }, [backedOff]: { vt: true }, [fresh]: { vt: true } });

    // Rows other tests of this file left due may run too: only ours are looked at.
    const ran: string[] = [];
    const runQueue = () =>
      runOnce({ connectionString: t.url, concurrency: 1, forbiddenFlags: gate.forbiddenFlags, logger: quietLogger }, {
        lookup: async (payload) => void ran.push((payload as { hash: string }).hash),
      });
    gate.closeForWindow(new Date(Date.now() + 60_000));
    await runQueue();
    expect(ran.filter((hash) => [woken, backedOff, fresh].includes(hash))).toEqual([woken]);

    const wokenInPause = md5("g12p");
    await queue(wokenInPause, { for: "window", budget: "vt:gate2" });
    gate.closeForPause(new Date(Date.now() + 60_000));
    ran.length = 0;
    await runQueue();
    expect(ran.filter((hash) => [wokenInPause, backedOff, fresh].includes(hash))).toEqual([]);
  });
});

describe("14. waiting on a lease", () => {
  it("the holder's outcome wakes the lookup that waits for its lease", async () => {
    const hash = summary.sha1;
    await createJob(t.db, { hashes: [hash] }, { ...options, cache: { ttlHours: 24, sources: [] } });
    // The waiter: the keyed row, told to come back when the holder's lease runs out.
    await t.sql`delete from graphile_worker._private_jobs where key = ${`lookup:${hash}`}`;
    await requeueLookup(t.db, { payload: { hash, attempt: 1, waitingFor: { for: "lease" } }, runAt: new Date(Date.now() + 60_000), priority: 0, maxAttempts: 5 });
    // The holder: a row of the same name that no longer holds the key (superseded while it ran).
    const [added] = await t.sql<{ id: string }[]>`
      select id::text from graphile_worker.add_job('lookup', json_build_object('hash', ${hash}::text))`;
    const [holder] = await t.sql<{ id: string; attempts: number }[]>`
      update graphile_worker._private_jobs set locked_by = 'pool-h14', locked_at = now(), attempts = 1
      where id = ${added.id}::bigint returning id::text, attempts`;
    expect((await keyedRow(hash))?.due_now).toBe(false);
    await settle({ db: t.db, budget: "simulator" }, {
      hash, lock: { jobId: holder.id, lockedBy: "pool-h14", attempts: 1 }, holder: `pool-h14/${holder.id}`, attempt: 1, maxAttempts: 5,
    }, { kind: "completed", report: summary, source: "simulator", fromCache: false });
    expect((await keyedRow(hash))?.due_now).toBe(true);
  });
});
