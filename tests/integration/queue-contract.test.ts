// What lib/db/queries/queue.ts relies on in graphile-worker 0.17's private schema and behaviour. An upgrade that
// changes any of it fails here first: then re-read queue.ts's header and the settle/fencing design before
// changing the expectations.
import { Logger, runOnce } from "graphile-worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
