// A lookup's final settle is one statement, a database function that checks the lookup still holds its row and then
// writes (worker/settle.ts, drizzle/0011_settle_function.sql). Here one of its writes fails, or the connection dies
// under it: it leaves nothing behind, the error is classified as any other (retried when a retry can cure it), no
// rejection goes unhandled, and the connection, reconnected where it died, settles the next lookup with its
// statements prepared again.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import net from "node:net";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { sql as dsql } from "drizzle-orm";
import { createDb, type Db } from "../../lib/db/client";
import { createJob, type CreateJobOptions } from "../../lib/jobs/create";
import { fileReportSchema, summarizeReport } from "../../lib/virustotal";
import { SettleFailedError } from "../../lib/db/queries/queue";
import { FencedError, settle, type LookupRun, type Outcome } from "../../worker/settle";
import { createTestDatabase, type TestDatabase } from "./helpers/test-database";

let t: TestDatabase;
/** One connection, so that the statements it has prepared, and its state after a failure, are those we look at. */
let one: Db;
beforeAll(async () => {
  t = await createTestDatabase("settle_pipeline");
  one = createDb(t.url, { max: 1 });
});
afterAll(async () => {
  await one?.$client.end({ timeout: 5 });
  await t?.drop();
});

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);
beforeEach(() => void process.on("unhandledRejection", onUnhandled));
afterEach(async () => {
  await new Promise((resolve) => setTimeout(resolve, 200));
  process.off("unhandledRejection", onUnhandled);
  expect(unhandled.splice(0)).toEqual([]);
});

const options: CreateJobOptions = { cache: { ttlHours: 24, sources: [] }, lookupMaxAttempts: 5 };
/** An MD5-shaped name per label. */
const md5 = (label: string) => createHash("md5").update(label).digest("hex");
const fixture = fileReportSchema.parse(
  JSON.parse(readFileSync("tests/fixtures/vt/001015aafcae8a6942366cbb0e7d39c0738752a7800c41ea1c655d47b0a4d04c.json", "utf8")),
);
/** A report of its own for each name, so that each case completes only its own tasks. */
const reportFor = (hash: string) => ({ ...summarizeReport(fixture), md5: hash, sha1: hash.padEnd(40, "1"), sha256: hash.padEnd(64, "2") });
const fromCache = (hash: string): Outcome => ({ kind: "completed", report: reportFor(hash), source: "simulator", fromCache: true });

/** Two jobs waiting for `hash`, its row fetched by `pool` with the lease taken, as a running lookup has them. */
async function running(hash: string, pool: string): Promise<{ run: LookupRun; jobs: string[] }> {
  const jobs = [(await createJob(t.db, { hashes: [hash] }, options)).id, (await createJob(t.db, { hashes: [md5("other"), hash] }, options)).id];
  const [row] = await t.sql<{ id: string; attempts: number }[]>`
    update graphile_worker._private_jobs set locked_by = ${pool}, locked_at = now(), attempts = attempts + 1
    where key = ${`lookup:${hash}`} returning id::text, attempts`;
  const holder = `${pool}/${row.id}`;
  await t.sql`insert into lookup_leases (hash, holder, expires_at) values (${hash}, ${holder}, now() + interval '1 minute')`;
  return { run: { hash, lock: { jobId: row.id, lockedBy: pool, attempts: row.attempts }, holder, attempt: 1, maxAttempts: 5 }, jobs };
}

const statuses = async (hash: string) =>
  (await t.sql<{ status: string }[]>`select status from tasks where hash = ${hash} order by job_id`).map((r) => r.status);
const queueRows = async (hash: string) =>
  t.sql<{ locked_by: string | null }[]>`select locked_by from graphile_worker._private_jobs where key = ${`lookup:${hash}`}`;
const leases = async (hash: string) => (await t.sql`select holder from lookup_leases where hash = ${hash}`).length;
/** Named statements the one connection holds (postgres.js's prepared statements, as the server sees them). */
const preparedOnOne = async () =>
  (await one.execute<{ statement: string }>(dsql`select statement from pg_prepared_statements where not from_sql`)).map((r) => r.statement);
const saved = async () => {
  const [row] = await t.sql<{ n: number }[]>`select coalesce(sum(count), 0)::int as n from vt_usage where budget = 'b' and period like 'saved:%'`;
  return row.n;
};

/** Makes the saved counter's write (in the middle of the pipeline) fail with `code` while `armed` has calls left. */
async function failSavedCounter(code: string, times: number) {
  await t.sql.unsafe(`
    drop sequence if exists fail_calls;
    create sequence fail_calls;
    create or replace function fail_saved() returns trigger language plpgsql as $$
    begin
      if new.period like 'saved:%' and nextval('fail_calls') <= ${times} then
        raise exception 'injected failure' using errcode = '${code}';
      end if;
      return new;
    end $$;
    drop trigger if exists fail_saved on vt_usage;
    create trigger fail_saved before insert on vt_usage for each row execute function fail_saved();`);
}
const stopFailing = () => t.sql`drop trigger if exists fail_saved on vt_usage`;

describe("a lookup's settle statement", () => {
  it("warm up: the connection has the settling's statements prepared", async () => {
    const { run } = await running(md5("warm"), "pool-w");
    await settle({ db: one, budget: "b" }, run, fromCache(md5("warm")));
    expect(await statuses(md5("warm"))).toEqual(["completed", "completed"]);
    expect(await saved()).toBe(1);
  });

  it("a write failing fails them all: nothing written, the error as Postgres said it, the connection usable", async () => {
    for (const round of [0, 1]) {
      const hash = md5(`fail${round}`);
      const { run } = await running(hash, "pool-f");
      const before = await saved();
      await failSavedCounter("P0001", 1);
      const error = await settle({ db: one, budget: "b" }, run, fromCache(hash)).catch((e: unknown) => e);
      await stopFailing();
      expect(error).toMatchObject({ code: "P0001", message: "injected failure" });
      expect(await statuses(hash)).toEqual(["pending", "pending"]);
      expect(await queueRows(hash)).toEqual([{ locked_by: "pool-f" }]);
      expect(await leases(hash)).toBe(1);
      expect(await saved()).toBe(before);
      // The same connection, back in the pool, settles the same run now, once.
      await settle({ db: one, budget: "b" }, run, fromCache(hash));
      expect(await statuses(hash)).toEqual(["completed", "completed"]);
      expect(await queueRows(hash)).toEqual([]);
      expect(await leases(hash)).toBe(0);
      expect(await saved()).toBe(before + 1);
    }
  });

  it("a deadlock in the middle of the settle is tried again and counted once", async () => {
    const hash = md5("deadlock");
    const { run } = await running(hash, "pool-d");
    const before = await saved();
    await failSavedCounter("40P01", 2);
    try {
      await settle({ db: one, budget: "b" }, run, fromCache(hash));
    } finally {
      await stopFailing();
    }
    expect(await statuses(hash)).toEqual(["completed", "completed"]);
    expect(await queueRows(hash)).toEqual([]);
    expect(await saved()).toBe(before + 1);
  });

  it("a connection killed while its writes wait is rolled back, reconnected, and the settling tried again", async () => {
    const hash = md5("killed");
    const { run } = await running(hash, "pool-k");
    const before = await saved();
    // Hold the tasks' rows: the settling's first write waits, its other writes queued behind it on the socket.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const holding = new Promise<void>((resolve) => (locked = resolve));
    const holder = t.sql.begin(async (tx) => {
      await tx`select 1 from tasks where hash = ${hash} for update`;
      locked();
      await released;
    });
    await holding;
    const settling = settle({ db: one, budget: "b" }, run, fromCache(hash));
    let pid: number | undefined;
    for (let i = 0; i < 100 && pid === undefined; i++) {
      const [waiting] = await t.sql<{ pid: number }[]>`
        select pid from pg_stat_activity where wait_event_type = 'Lock' and query like '%hashscan_settle_lookup%'`;
      pid = waiting?.pid;
      if (pid === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(pid).toBeDefined();
    await t.sql`select pg_terminate_backend(${pid!})`;
    release();
    await holder;
    await settling;
    expect(await statuses(hash)).toEqual(["completed", "completed"]);
    expect(await queueRows(hash)).toEqual([]);
    expect(await leases(hash)).toBe(0);
    expect(await saved()).toBe(before + 1);
    // Its replacement connection prepares the statements anew: the next settling goes through too.
    const next = await running(md5("after"), "pool-k");
    await settle({ db: one, budget: "b" }, next.run, fromCache(md5("after")));
    expect(await statuses(md5("after"))).toEqual(["completed", "completed"]);
  });

  it("prepare each statement once per connection, whatever the names, reasons and reports", async () => {
    const outcomes = (hash: string, i: number): Outcome[] => [
      fromCache(hash),
      { kind: "completed", report: { ...reportFor(hash), scanDate: null, fortinet: null }, source: "simulator", fromCache: false },
      { kind: "completed", report: reportFor(hash), source: "simulator", fromCache: false, raw: { data: { id: hash, i } } },
      { kind: "not_found", fromCache: i % 2 === 0 },
      { kind: "failed", reason: `reason ${i}` },
      { kind: "wait", until: new Date(Date.now() + 60_000), waitingFor: { for: "backoff" }, attempt: 2, note: `note ${i}` },
      { kind: "unwanted" },
    ];
    const round = async (r: number) => {
      for (let k = 0; k < 7; k++) {
        const hash = md5(`cache-${r}-${k}`);
        const { run } = await running(hash, "pool-c");
        await settle({ db: one, budget: "b" }, run, outcomes(hash, r)[k]);
      }
    };
    await round(0);
    await round(1);
    const after = await preparedOnOne();
    for (let r = 2; r < 6; r++) await round(r);
    expect((await preparedOnOne()).length).toBe(after.length);
  });
});

/** Makes `op` on `table` fail with `code` for its first `times` rows (every row: Infinity). */
async function failOn(table: string, op: "insert" | "delete", code: string, times: number) {
  await t.sql.unsafe(`
    drop sequence if exists fail_on_calls;
    create sequence fail_on_calls;
    create or replace function fail_on() returns trigger language plpgsql as $$
    begin
      if nextval('fail_on_calls') <= ${Number.isFinite(times) ? times : 1_000_000} then
        raise exception 'injected failure' using errcode = '${code}';
      end if;
      return coalesce(new, old);
    end $$;
    drop trigger if exists fail_on on ${table};
    create trigger fail_on before ${op} on ${table} for each row execute function fail_on();`);
  return () => t.sql.unsafe(`drop trigger if exists fail_on on ${table}`);
}

describe("a settle carrying VirusTotal's answer", () => {
  /** What this lookup paid for: the settle stores it first. */
  const paid = (hash: string): Outcome => ({ kind: "completed", report: reportFor(hash), source: "simulator", fromCache: false, raw: { data: { id: hash } } });
  const stored = async (hash: string) =>
    (await t.sql<{ raw: unknown }[]>`select raw from reports where md5 = ${hash} and source = 'simulator'`).map((r) => r.raw);
  /** Each write of a report row counted: a settle tried again stores the answer once. */
  const countReportWrites = () =>
    t.sql.unsafe(`
      drop sequence if exists report_writes;
      create sequence report_writes;
      create or replace function count_report_write() returns trigger language plpgsql as $$
      begin perform nextval('report_writes'); return new; end $$;
      drop trigger if exists count_report_write on reports;
      create trigger count_report_write before insert or update on reports for each row execute function count_report_write();`);
  const reportWrites = async () => (await t.sql<{ n: number; is_called: boolean }[]>`select last_value::int as n, is_called from report_writes`).map((r) => (r.is_called ? r.n : 0))[0];
  afterEach(() => t.sql.unsafe("drop trigger if exists count_report_write on reports"));

  it("stores it, and completes every job that asked", async () => {
    const hash = md5("paid");
    const { run } = await running(hash, "pool-p");
    await settle({ db: one, budget: "b" }, run, paid(hash));
    expect(await stored(hash)).toEqual([{ data: { id: hash } }]);
    expect(await statuses(hash)).toEqual(["completed", "completed"]);
    expect(await queueRows(hash)).toEqual([]);
    expect(await leases(hash)).toBe(0);
  });

  it("keeps it when the run was taken over, and writes nothing else", async () => {
    const hash = md5("paid-fenced");
    const { run } = await running(hash, "pool-pf");
    await t.sql`update graphile_worker._private_jobs set locked_by = 'pool-other' where id = ${run.lock.jobId}`;
    await expect(settle({ db: one, budget: "b" }, run, paid(hash))).rejects.toBeInstanceOf(FencedError);
    expect(await stored(hash)).toEqual([{ data: { id: hash } }]);
    expect(await statuses(hash)).toEqual(["pending", "pending"]);
    expect(await queueRows(hash)).toEqual([{ locked_by: "pool-other" }]);
  });

  it("keeps it when the settle after it fails, and raises the settle's error as Postgres said it", async () => {
    const hash = md5("paid-failing");
    const { run } = await running(hash, "pool-pe");
    const stop = await failOn("lookup_leases", "delete", "P0001", 1);
    const error = await settle({ db: one, budget: "b" }, run, paid(hash)).catch((e: unknown) => e);
    await stop();
    expect(error).toBeInstanceOf(SettleFailedError);
    expect(error).toMatchObject({ code: "P0001", message: "injected failure" });
    expect(await stored(hash)).toEqual([{ data: { id: hash } }]);
    expect(await statuses(hash)).toEqual(["pending", "pending"]);
    expect(await queueRows(hash)).toEqual([{ locked_by: "pool-pe" }]);
    expect(await leases(hash)).toBe(1);
  });

  it("tries a settle that met a deadlock again without storing the answer twice", async () => {
    const hash = md5("paid-deadlock");
    const { run } = await running(hash, "pool-pd");
    await countReportWrites();
    const stop = await failOn("lookup_leases", "delete", "40P01", 2);
    try {
      await settle({ db: one, budget: "b" }, run, paid(hash));
    } finally {
      await stop();
    }
    expect(await reportWrites()).toBe(1);
    expect(await stored(hash)).toEqual([{ data: { id: hash } }]);
    expect(await statuses(hash)).toEqual(["completed", "completed"]);
    expect(await queueRows(hash)).toEqual([]);
    expect(await leases(hash)).toBe(0);
  });

  it("fails the tasks with a reason when the answer cannot be stored", async () => {
    const hash = md5("paid-unstorable");
    const { run } = await running(hash, "pool-pu");
    const stop = await failOn("reports", "insert", "P0001", Infinity);
    try {
      await settle({ db: one, budget: "b" }, run, paid(hash));
    } finally {
      await stop();
    }
    expect(await stored(hash)).toEqual([]);
    const rows = await t.sql<{ status: string; error: string }[]>`select status, error from tasks where hash = ${hash} order by job_id`;
    expect(rows).toEqual(Array(2).fill({ status: "failed", error: "VirusTotal answered, but the answer could not be stored" }));
    expect(await queueRows(hash)).toEqual([]);
    expect(await leases(hash)).toBe(0);
  });
  it("keeps it when the settle waits for the row past the statement's timeout, and raises the timeout", async () => {
    const hash = md5("paid-timeout");
    const { run } = await running(hash, "pool-pt");
    const impatient = drizzle(postgres(t.url, { max: 1, onnotice: () => {}, connection: { statement_timeout: 1000 } }));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const holding = new Promise<void>((resolve) => (locked = resolve));
    const holder = t.sql.begin(async (tx) => {
      await tx`select 1 from graphile_worker._private_jobs where id = ${run.lock.jobId} for update`;
      locked();
      await released;
    });
    try {
      await holding;
      const error = await settle({ db: impatient as unknown as Db, budget: "b" }, run, paid(hash)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SettleFailedError);
      expect(error).toMatchObject({ code: "57014" });
      expect(await stored(hash)).toEqual([{ data: { id: hash } }]);
      expect(await statuses(hash)).toEqual(["pending", "pending"]);
    } finally {
      release();
      await holder;
      await impatient.$client.end({ timeout: 5 });
    }
    // Tried again later (graphile-worker's retry finds the answer in the cache), it completes.
    await settle({ db: one, budget: "b" }, run, { kind: "completed", report: reportFor(hash), source: "simulator", fromCache: false });
    expect(await statuses(hash)).toEqual(["completed", "completed"]);
  });

  it("tried again after its reply was lost on the way back, finds its own commit and ends without a fence", async () => {
    const hash = md5("paid-lost-reply");
    const { run } = await running(hash, "pool-pl");
    // A proxy that, once, lets the settle reach the server and commit, and then cuts the connection in place of its reply.
    const target = new URL(t.url);
    let armed = true;
    const sockets = new Set<net.Socket>();
    const proxy = net.createServer((client) => {
      const server = net.connect(Number(target.port), target.hostname);
      sockets.add(client).add(server);
      let sent = false;
      client.on("data", (chunk) => {
        if (armed && chunk.includes("hashscan_settle_lookup")) sent = true;
        server.write(chunk);
      });
      server.on("data", (chunk) => {
        // The server flushes its answer at the statement's Sync, after the commit: drop it and the connection.
        if (sent && armed && chunk.includes("SELECT 1")) {
          armed = false;
          client.destroy();
          server.destroy();
          return;
        }
        client.write(chunk);
      });
      for (const socket of [client, server]) socket.on("error", () => {}).on("close", () => (client.destroy(), server.destroy()));
    });
    proxy.listen(0, "127.0.0.1");
    await new Promise((resolve) => proxy.once("listening", resolve));
    const via = new URL(t.url);
    via.hostname = "127.0.0.1";
    via.port = String((proxy.address() as net.AddressInfo).port);
    const lossy = createDb(via.toString(), { max: 1 });
    await countReportWrites();
    try {
      await settle({ db: lossy, budget: "b" }, run, paid(hash));
      expect(armed).toBe(false);
      // Two tries reached the server: the one whose reply was cut (an insert), and the one that found its work done,
      // whose store met the row (an insert's trigger, then the update's).
      expect(await reportWrites()).toBe(3);
      expect(await stored(hash)).toEqual([{ data: { id: hash } }]);
      expect(await statuses(hash)).toEqual(["completed", "completed"]);
      expect(await queueRows(hash)).toEqual([]);
      expect(await leases(hash)).toBe(0);
    } finally {
      await lossy.$client.end({ timeout: 5 });
      for (const socket of sockets) socket.destroy();
      proxy.close();
    }
  });
});
