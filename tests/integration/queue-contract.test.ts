// What lib/db/queries/queue.ts relies on in graphile-worker 0.17's private schema and behaviour. An upgrade that
// changes any of it fails here first: then re-read queue.ts's header and the settle/fencing design before
// changing the expectations.
import { sql } from "drizzle-orm";
import { Logger, runOnce } from "graphile-worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enqueueLookups } from "../../lib/db/queries/queue";
import { createTestDatabase, type TestDatabase } from "./helpers/test-database";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase("queue_contract");
});
afterAll(async () => t?.drop());

const quiet = new Logger(() => () => {});

describe("graphile-worker's private schema", () => {
  it("is the one of 0.17 (its last migration is number 19)", async () => {
    const [row] = await t.sql<{ id: number }[]>`select max(id)::int as id from graphile_worker.migrations`;
    expect(row.id).toBe(19);
  });

  it("has the job columns the queries read and write", async () => {
    const columns = await t.sql<{ column_name: string; data_type: string; is_generated: string }[]>`
      select column_name, data_type, is_generated from information_schema.columns
      where table_schema = 'graphile_worker' and table_name = '_private_jobs'`;
    const byName = Object.fromEntries(columns.map((c) => [c.column_name, [c.data_type, c.is_generated]]));
    expect(byName).toMatchObject({
      id: ["bigint", "NEVER"],
      task_id: ["integer", "NEVER"],
      key: ["text", "NEVER"],
      payload: ["json", "NEVER"],
      priority: ["smallint", "NEVER"],
      run_at: ["timestamp with time zone", "NEVER"],
      attempts: ["smallint", "NEVER"],
      max_attempts: ["smallint", "NEVER"],
      last_error: ["text", "NEVER"],
      locked_at: ["timestamp with time zone", "NEVER"],
      locked_by: ["text", "NEVER"],
      is_available: ["boolean", "ALWAYS"],
    });
  });

  it("has the functions and the job_spec type the queries call, with their argument lists", async () => {
    const functions = await t.sql<{ name: string; args: string }[]>`
      select p.proname as name, pg_get_function_identity_arguments(p.oid) as args
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname = 'graphile_worker' and p.proname in ('add_jobs', 'add_job', 'force_unlock_workers')
      order by 1`;
    expect(functions).toEqual([
      { name: "add_job", args: expect.stringMatching(/^identifier text, payload json, queue_name text, run_at timestamp with time zone, max_attempts integer, job_key text, priority integer, flags text\[\]/) },
      { name: "add_jobs", args: "specs graphile_worker.job_spec[], job_key_preserve_run_at boolean" },
      { name: "force_unlock_workers", args: "worker_ids text[]" },
    ]);
    const attributes = await t.sql<{ attname: string }[]>`
      select a.attname from pg_attribute a join pg_type ty on ty.typrelid = a.attrelid
      join pg_namespace n on n.oid = ty.typnamespace
      where n.nspname = 'graphile_worker' and ty.typname = 'job_spec' and a.attnum > 0 order by a.attnum`;
    expect(attributes.map((a) => a.attname)).toEqual(["identifier", "payload", "queue_name", "run_at", "max_attempts", "job_key", "priority", "flags"]);
  });
});

describe("graphile-worker's behaviour", () => {
  it("add_jobs, for a key whose row is locked, takes the key off that row and spends its attempts", async () => {
    await t.sql`select graphile_worker.add_job('probe', '{}'::json, job_key := 'probe:locked', max_attempts := 5)`;
    await t.sql`update graphile_worker._private_jobs set locked_by = 'p', locked_at = now() where key = 'probe:locked'`;
    await t.sql`select graphile_worker.add_job('probe', '{}'::json, job_key := 'probe:locked', max_attempts := 5)`;
    const rows = await t.sql`select key, attempts, max_attempts, locked_by from graphile_worker._private_jobs where task_id = (select id from graphile_worker._private_tasks where identifier = 'probe') order by id`;
    expect(rows).toEqual([
      { key: null, attempts: 5, max_attempts: 5, locked_by: "p" },
      { key: "probe:locked", attempts: 0, max_attempts: 5, locked_by: null },
    ]);
  });

  it("completes a job by id whoever holds it, and fails one only while its own pool holds it", async () => {
    const runProbe = async (key: string, end: "return" | "throw") => {
      await t.sql`select graphile_worker.add_job('probe_run', '{}'::json, job_key := ${key})`;
      await runOnce({
        connectionString: t.url,
        logger: quiet,
        taskList: {
          probe_run: async (_payload, helpers) => {
            if (helpers.job.key !== key) return;
            // Another pool takes the row over while this run goes on (what the reaper allows after a silence).
            await helpers.query("update graphile_worker._private_jobs set locked_by = 'other-pool' where id = $1", [helpers.job.id]);
            if (end === "throw") throw new Error("fenced");
          },
        },
      });
      return t.sql<{ locked_by: string | null; attempts: number }[]>`select locked_by, attempts from graphile_worker._private_jobs where key = ${key}`;
    };
    // Returning deletes the row by id, though another pool holds it now: this is why a fenced lookup must throw.
    expect(await runProbe("probe:returns", "return")).toEqual([]);
    // Throwing leaves a row held by another pool as it is.
    expect(await runProbe("probe:throws", "throw")).toEqual([{ locked_by: "other-pool", attempts: 1 }]);
  });
});

describe("the lookup rows enqueueLookups writes itself", () => {
  // Every column but the row's identity and times; the payload's hash and the key are compared apart.
  const row = (key: string) => t.sql<Record<string, unknown>[]>`
    select j.job_queue_id, t.identifier, j.payload->>'hash' as hash, j.priority, j.run_at, j.attempts, j.max_attempts,
      j.last_error, j.locked_at, j.locked_by, j.flags, j.is_available, json_typeof(j.payload) as payload_type,
      (select array_agg(k order by k) from json_object_keys(j.payload) k) as payload_keys
    from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id where j.key = ${key}`;
  const same = (hash: string) => (rows: Record<string, unknown>[]) => rows.map((r) => ({ ...r, hash: r.hash === hash ? "it" : r.hash }));

  it("are the rows add_jobs writes for the same specs, and wake the workers as add_jobs does", async () => {
    const [ours, theirs] = ["c".repeat(32), "d".repeat(32)];
    const heard: string[] = [];
    const listening = await t.sql.listen("jobs:insert", (payload) => heard.push(payload));
    // Rank 40,000: past the smallint's cap, so the rank goes on in run_at (7,233 µs past RANK_TIME).
    const queued = await t.db.transaction((tx) => enqueueLookups(tx, sql`select ${ours}::text as hash, 40000 as rank`, 7));
    expect(queued).toEqual({ queued: 1, lastPriority: 32767, lastRank: 40000 });
    await t.sql`
      select graphile_worker.add_jobs(array[row(
        'lookup', json_build_object('hash', ${theirs}::text), null, '2000-01-01T00:00:00.007233Z'::timestamptz, 7,
        ${`lookup:${theirs}`}, 32767, array['vt']
      )::graphile_worker.job_spec], true)`;
    expect(same(ours)(await row(`lookup:${ours}`))).toEqual(same(theirs)(await row(`lookup:${theirs}`)));
    expect((await row(`lookup:${ours}`))[0]).toMatchObject({ identifier: "lookup", is_available: true, payload_keys: ["hash"] });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await listening.unlisten();
    expect(heard.map((payload) => JSON.parse(payload).count)).toEqual([1, 1]);
  });

  it("finds the task's id that another session adds at the same moment (a worker's first start)", async () => {
    const lone = await createTestDatabase("queue_contract_task");
    try {
      const hash = "f".repeat(32);
      await lone.sql`delete from graphile_worker._private_tasks where identifier = 'lookup'`;
      let committed = 0;
      // A worker registering its tasks: the row is written, not yet committed, when the lookups are queued.
      const worker = lone.sql.begin(async (sql) => {
        await sql`insert into graphile_worker._private_tasks (identifier) values ('lookup')`;
        await new Promise((resolve) => setTimeout(resolve, 300));
        committed = Date.now();
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      const queued = await lone.db.transaction((tx) => enqueueLookups(tx, sql`select ${hash}::text as hash, 1 as rank`, 5));
      await worker;
      expect(committed).toBeGreaterThan(0);
      expect(queued.queued).toBe(1);
      const [row] = await lone.sql`
        select t.identifier from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
        where j.key = ${`lookup:${hash}`}`;
      expect(row).toEqual({ identifier: "lookup" });
    } finally {
      await lone.drop();
    }
  });

  it("runs a dead row of the hash again as a new one, where add_jobs would have added a row beside it", async () => {
    const hash = "e".repeat(32);
    await t.db.transaction((tx) => enqueueLookups(tx, sql`select ${hash}::text as hash, 3 as rank`, 5));
    await t.sql`
      update graphile_worker._private_jobs set attempts = max_attempts, last_error = 'boom', payload = json_build_object('hash', ${hash}::text, 'attempt', 5)
      where key = ${`lookup:${hash}`}`;
    const queued = await t.db.transaction((tx) => enqueueLookups(tx, sql`select ${hash}::text as hash, 1 as rank`, 6));
    expect(queued.queued).toBe(1);
    const rows = await t.sql`select key, attempts, max_attempts, last_error, priority, payload, is_available from graphile_worker._private_jobs where payload->>'hash' = ${hash}`;
    expect(rows).toEqual([{ key: `lookup:${hash}`, attempts: 0, max_attempts: 6, last_error: null, priority: 1, payload: { hash }, is_available: true }]);
  });
});
