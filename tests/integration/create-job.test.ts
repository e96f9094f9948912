import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { saveReport, recordNotFound } from "../../lib/db/queries/reports";
import { copyTasks } from "../../lib/db/queries/tasks";
import { retryingTransaction } from "../../lib/db/retry";
import { parseUploadList } from "../../lib/hashes/upload";
import { createJob, type CreateJobOptions } from "../../lib/jobs/create";
import { getJobReport } from "../../lib/jobs/report";
import { summarizeReport, fileReportSchema } from "../../lib/virustotal";
import { createTestDatabase, type TestDatabase } from "./helpers/test-database";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase("create_job");
});
afterAll(async () => t?.drop());

const options: CreateJobOptions = { cache: { ttlHours: 24, sources: ["virustotal", "simulator"] }, lookupMaxAttempts: 5 };

const fixture = (sha256: string) =>
  fileReportSchema.parse(JSON.parse(readFileSync(`tests/fixtures/vt/${sha256}.json`, "utf8")));

async function queueJobs() {
  return t.sql<{ key: string; priority: number; max_attempts: number; payload: { hash: string }; flags: Record<string, true> }[]>`
    select key, priority, max_attempts, payload, flags from graphile_worker._private_jobs order by id`;
}

async function rowCounts() {
  const [row] = await t.sql<{ jobs: number; tasks: number; queued: number }[]>`
    select (select count(*)::int from jobs) as jobs, (select count(*)::int from tasks) as tasks,
           (select count(*)::int from graphile_worker.jobs) as queued`;
  return row;
}

describe("createJob", () => {
  it("writes the job, one task per distinct hash, and one keyed lookup per hash, in input order", async () => {
    const md5 = "0496f4962d3dce3caa849f605749f7f2";
    const sha1 = "15e43dbe5259192a9d6b89d1c1e3e99ac9e86880";
    const job = await createJob(t.db, { text: `# list\n${md5.toUpperCase()};x\n${sha1}\nnothing here\n${md5}`, name: " demo " }, options);

    expect(job).toMatchObject({ accepted: 2, duplicates: 1, invalidCount: 1, queued: 2 });
    expect(job.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(job.invalid).toEqual([{ line: 4, value: "nothing here", reason: "no MD5, SHA-1 or SHA-256 found" }]);

    const [stored] = await t.sql`select name, total, duplicates, invalid_count, invalid_lines from jobs where id = ${job.id}`;
    expect(stored).toMatchObject({ name: "demo", total: 2, duplicates: 1, invalid_count: 1 });
    const tasks = await t.sql`select position, line, hash, hash_type, status from tasks where job_id = ${job.id} order by position`;
    expect(tasks).toEqual([
      { position: 0, line: 2, hash: md5, hash_type: "md5", status: "pending" },
      { position: 1, line: 3, hash: sha1, hash_type: "sha1", status: "pending" },
    ]);
    const queued = await queueJobs();
    expect(queued.map((q) => [q.key, q.priority, q.max_attempts, q.payload])).toEqual([
      [`lookup:${md5}`, 0, 5, { hash: md5 }],
      [`lookup:${sha1}`, 1, 5, { hash: sha1 }],
    ]);
    expect(queued[0].flags).toEqual({ vt: true });
  });

  it("shares one queued lookup between jobs that ask for the same hash", async () => {
    const hash = "e85463d19104cacd79a25cacb0b57c1d";
    await createJob(t.db, { hashes: [hash] }, options);
    await createJob(t.db, { hashes: [hash, hash] }, options);
    const keyed = (await queueJobs()).filter((q) => q.key === `lookup:${hash}`);
    expect(keyed).toHaveLength(1);
  });

  it("keeps a lookup another job queued (its wait, its attempt count), moving it up when the new rank is better", async () => {
    const hash = "9d602778db57e86abb51a0fc9f908eba";
    const filler = Array.from({ length: 5 }, (_, i) => `${i}`.repeat(32).replace(/^./, "f"));
    await createJob(t.db, { hashes: [...filler, hash] }, options); // rank 5
    // As if it were waiting after a transient error: attempt 3 of 5, due in an hour.
    await t.sql`
      update graphile_worker._private_jobs
      set payload = ${t.sql.json({ hash, attempt: 3 })}, run_at = now() + interval '1 hour'
      where key = ${`lookup:${hash}`}`;
    const lookup = async () => {
      const [row] = await t.sql<{ priority: number; payload: { attempt?: number }; later: boolean }[]>`
        select priority, payload, run_at > now() + interval '59 minutes' as later
        from graphile_worker._private_jobs where key = ${`lookup:${hash}`}`;
      return row;
    };
    expect(await lookup()).toEqual({ priority: 5, payload: { hash, attempt: 3 }, later: true });

    await createJob(t.db, { hashes: [hash] }, options); // rank 0: moves it up
    expect(await lookup()).toEqual({ priority: 0, payload: { hash, attempt: 3 }, later: true });
    await createJob(t.db, { hashes: [...filler, hash] }, options); // rank 5 again: no move down
    expect(await lookup()).toEqual({ priority: 0, payload: { hash, attempt: 3 }, later: true });
    expect((await queueJobs()).filter((q) => q.key === `lookup:${hash}`)).toHaveLength(1);
  });

  it("completes on the spot a task whose file is fresh in the cache under another of its names", async () => {
    const report = fixture("001015aafcae8a6942366cbb0e7d39c0738752a7800c41ea1c655d47b0a4d04c");
    await saveReport(t.db, summarizeReport(report), report, "simulator");
    await recordNotFound(t.db, "dead0000000000000000000000000000", "simulator");
    const before = (await queueJobs()).length;

    const job = await createJob(
      t.db,
      { text: "b214da9f6b0d6e6de5090b3f9672defe\nb7162dfcbcac2724c71c03385abe577e1ab0cd8d\ndead0000000000000000000000000000" },
      options,
    );
    expect(job.queued).toBe(0);
    expect((await queueJobs()).length).toBe(before);
    const view = await getJobReport(t.db, job.id, { limit: 10 });
    expect(view?.status).toBe("completed");
    expect(view?.results.map((r) => [r.status, r.fortinet, r.detected, r.engines])).toEqual([
      ["completed", "WM/Moat.81C2F10E!tr", 53, 62],
      ["completed", "WM/Moat.81C2F10E!tr", 53, 62],
      ["not_found", null, null, null],
    ]);
  });

  it("does not serve a simulated report when only real VirusTotal reports may answer", async () => {
    const job = await createJob(t.db, { text: "b214da9f6b0d6e6de5090b3f9672defe" }, {
      ...options,
      cache: { ttlHours: 24, sources: ["virustotal"] },
    });
    expect(job.queued).toBe(1);
  });

  it("leaves nothing behind when the queue insert fails inside the transaction", async () => {
    const before = await rowCounts();
    // graphile-worker rejects max_attempts < 1: a real database error after the job and tasks were written.
    await expect(
      createJob(t.db, { hashes: ["73d45bfefdef3a8b379887cf582a6105"] }, { ...options, lookupMaxAttempts: 0 }),
    ).rejects.toThrow();
    expect(await rowCounts()).toEqual(before);
  });

  it("leaves nothing behind when it fails between the rows and the queue", async () => {
    const before = await rowCounts();
    await expect(
      createJob(t.db, { hashes: ["2090a5cf258c81d08c284f4ca0e367a7"] }, {
        ...options,
        beforeEnqueue: async () => {
          throw new Error("injected");
        },
      }),
    ).rejects.toThrow("injected");
    expect(await rowCounts()).toEqual(before);
  });

  it("fails, rather than hangs, when the server refuses the tasks' COPY after its last row, and writes nothing", async () => {
    // A job id with no job: that its job exists is checked when the COPY ends, after the client has sent every row.
    for (const size of [1, 50_000]) {
      const upload = parseUploadList(Array.from({ length: size }, (_, i) => i.toString(16).padStart(32, "9")), "no-such-job-0000000000");
      const attempt = retryingTransaction(t.db, (tx) => copyTasks(tx, upload.rows));
      await expect(attempt).rejects.toMatchObject({ code: "23503" });
    }
    // The pool's connections are usable afterwards: each transaction was rolled back, none was left hanging.
    expect(await t.sql`select count(*)::int as n from tasks where job_id = 'no-such-job-0000000000'`).toEqual([{ n: 0 }]);
    const [{ n }] = await t.db.$client<{ n: number }[]>`select count(*)::int as n from pg_stat_activity where state like 'idle in transaction%' and datname = current_database()`;
    expect(n).toBe(0);
  });

  it("refuses input without a hash, saying what it saw", async () => {
    await expect(createJob(t.db, { text: "# only a comment\n\n" }, options)).rejects.toMatchObject({
      code: "no_valid_hashes",
      message: "The input holds no hashes.",
    });
    await expect(createJob(t.db, { text: "a".repeat(128) }, options)).rejects.toMatchObject({
      code: "no_valid_hashes",
      message: expect.stringContaining("SHA-512 is not supported"),
    });
  });

  it("accepts 100,000 distinct hashes as one job, and a second job that shares them all", async () => {
    const hashes = Array.from({ length: 100_000 }, (_, i) => i.toString(16).padStart(64, "0"));
    const job = await createJob(t.db, { text: hashes.join("\n") }, options);
    expect(job).toMatchObject({ accepted: 100_000, queued: 100_000 });
    const [counts] = await t.sql`
      select count(*)::int as tasks, max(position)::int as last, max(line)::int as last_line
      from tasks where job_id = ${job.id}`;
    expect(counts).toEqual({ tasks: 100_000, last: 99_999, last_line: 100_000 });
    const [priorities] = await t.sql`
      select max(priority)::int as max from graphile_worker.jobs where key like 'lookup:000%'`;
    expect(priorities.max).toBe(32_767);

    // A second job with the same 100,000 hashes shares every queued lookup, set-based too.
    const again = await createJob(t.db, { text: hashes.reverse().join("\n") }, options);
    expect(again).toMatchObject({ accepted: 100_000, queued: 100_000 });
    const [queue] = await t.sql`select count(*)::int as n from graphile_worker.jobs where key like 'lookup:000%'`;
    expect(queue.n).toBe(100_000);
    // Reversed, the last hashes now rank first: their lookups moved up.
    const [last] = await t.sql`select priority from graphile_worker.jobs where key = ${`lookup:${hashes[0]}`}`;
    expect(last.priority).toBe(0);
  });
});

describe("a task's job (kept by triggers, drizzle/0009, as a foreign key would)", () => {
  const hashes = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag}${i.toString(16).padStart(32 - tag.length, "0")}`);
  const tasksOf = async (jobId: string) => (await t.sql<{ n: number }[]>`select count(*)::int as n from tasks where job_id = ${jobId}`)[0].n;

  it("refuses tasks of no job, whatever else the statement writes", async () => {
    const { id } = await createJob(t.db, { hashes: hashes("e1", 1) }, options);
    const insert = (jobId: string) => t.sql`
      insert into tasks (job_id, position, line, hash, hash_type)
      values (${id}, 100, 100, ${hashes("e2", 1)[0]}, 'md5'), (${jobId}, 0, 1, ${hashes("e3", 1)[0]}, 'md5')`;
    await expect(insert("no-such-job-0000000000")).rejects.toMatchObject({ code: "23503" });
    expect(await tasksOf(id)).toBe(1);
  });

  it("deletes a job's tasks with it, and only its own", async () => {
    const [a, b] = [await createJob(t.db, { hashes: hashes("e4", 300) }, options), await createJob(t.db, { hashes: hashes("e4", 300) }, options)];
    await t.sql`delete from jobs where id = ${a.id}`;
    expect([await tasksOf(a.id), await tasksOf(b.id)]).toEqual([0, 300]);
  });

  it("never moves a task to another job, nor gives a job another id", async () => {
    const [a, b] = [await createJob(t.db, { hashes: hashes("e5", 2) }, options), await createJob(t.db, { hashes: hashes("e6", 2) }, options)];
    await expect(t.sql`update tasks set job_id = ${b.id} where job_id = ${a.id}`).rejects.toMatchObject({ code: "23503" });
    await expect(t.sql`update jobs set id = 'moved-job-000000000000' where id = ${a.id}`).rejects.toMatchObject({ code: "23503" });
    // Other updates of either are untouched by the check.
    await t.sql`update tasks set job_id = job_id, error = 'x' where job_id = ${a.id}`;
    await t.sql`update jobs set name = 'renamed' where id = ${a.id}`;
    expect(await tasksOf(a.id)).toBe(2);
  });

  it("holds a job whose tasks are being written: a delete of it waits, then takes the new tasks too", async () => {
    const { id } = await createJob(t.db, { hashes: hashes("e7", 1) }, options);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let written!: () => void;
    const wrote = new Promise<void>((resolve) => (written = resolve));
    const writing = t.sql.begin(async (tx) => {
      await tx`insert into tasks (job_id, position, line, hash, hash_type) select ${id}, g, g + 1, md5(g::text), 'md5' from generate_series(1, 50) g`;
      written();
      await held;
    });
    await wrote;
    let deleted = false;
    const deleting = t.sql`delete from jobs where id = ${id}`.then(() => (deleted = true));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(deleted).toBe(false);
    release();
    await writing;
    await deleting;
    expect(await tasksOf(id)).toBe(0);
  });
});
