// PostgreSQL stopped under a running job and started again on the same port and data. While it is down the API says
// 503 `unavailable`; a job being written when it went is not half-kept; once it is back the same worker process
// carries on by itself, every job ends with each hash answered, and a job accepted just before the stop is all there.
// Once as a crash (immediate shutdown: backends killed, crash recovery at the next start), once as a fast shutdown.
import { describe, expect, it } from "vitest";
import { GET as HEALTH } from "../../app/api/health/route";
import { POST } from "../../app/api/jobs/route";
import { GET } from "../../app/api/jobs/[id]/route";
import { getJobReport } from "../../lib/jobs/report";
import { foundHashes } from "./helpers/hashes";
import { startOwnPostgres, type OwnPostgres, type ShutdownMode } from "./helpers/own-postgres";
import { useWorkerStack, waitFor } from "./helpers/stack";

// About one request every 0.75 s (4 per window, kept a second longer than its 2 s): a 24-hash job takes ~18 s, so
// it is mid-way when the server goes, and most of it is left for after the restart.
const PER_WINDOW = 4;
const WINDOW_SECONDS = 2;
const HASHES = 24;
const LATE_HASHES = 10;
/** How long the server stays down: longer than a lookup's quick retries of its settle (settle.ts) last. */
const DOWN_MS = 12_000;

let pg: OwnPostgres;
const stack = useWorkerStack("db_restart", {
  database: async () => {
    pg = await startOwnPostgres("db-restart");
    // Read once (lib/env.ts), by the routes' shared pool; a secret of our own rather than a data/app-secret file.
    process.env.DATABASE_URL = pg.url;
    process.env.APP_SECRET ??= "db-restart-test-secret-0123456789abcdef";
    return pg;
  },
  worker: {
    WORKER_CONCURRENCY: "2",
    VT_REQUESTS_PER_MINUTE: String(PER_WINDOW),
    VT_RATE_WINDOW_SECONDS: String(WINDOW_SECONDS),
    // A stale time the outage outlasts: back, the pool must neither reap itself nor be taken for dead.
    WORKER_HEARTBEAT_SECONDS: "1",
    WORKER_STALE_SECONDS: "5",
    VT_REQUEST_TIMEOUT_SECONDS: "5",
  },
});

const BASE = "http://hashscan.test";
const post = (hashes: string[]) =>
  POST(new Request(`${BASE}/api/jobs`, { method: "POST", body: hashes.join("\n"), headers: { "content-type": "text/plain" } }));
const get = (id: string) => GET(new Request(`${BASE}/api/jobs/${id}`), { params: Promise.resolve({ id }) });
const reportOf = (id: string) => getJobReport(pg.db, id, { limit: 100 });
const UNAVAILABLE = { error: { code: "unavailable", message: "The database is unavailable; try again shortly." } };

async function created(hashes: string[]): Promise<string> {
  const response = await post(hashes);
  expect(response.status).toBe(201);
  const body = (await response.json()) as { id: string; accepted: number };
  expect(body.accepted).toBe(hashes.length);
  return body.id;
}

/**
 * Transactions of both sides caught in the middle when the server goes: a job being created (its row written, its
 * tasks not yet) and a worker's lookup settling, both waiting for a lock on the tasks that we hold until the server
 * is gone. A transaction whose connection dies is what postgres.js 3.4.9 cannot survive: its automatic rollback is
 * written to the closed socket from a timer, where no catch reaches, and the process ends (porsager/postgres#1154).
 */
async function transactionsCaughtMidway(hashes: string[]) {
  let serverGone!: () => void;
  const gone = new Promise<void>((resolve) => (serverGone = resolve));
  let locked!: () => void;
  const holding = new Promise<void>((resolve) => (locked = resolve));
  const holder = pg.sql
    .begin(async (tx) => {
      await tx`lock table tasks in exclusive mode`; // reads go on; writes wait
      locked();
      await gone;
    })
    .catch(() => {}); // it dies with the server, as it should
  await holding;
  const response = post(hashes);
  await waitFor("a job's and a lookup's transactions to wait for the tasks", async () => {
    const waiting = await pg.sql<{ query: string }[]>`
      select query from pg_stat_activity where wait_event_type = 'Lock' and xact_start is not null`;
    const copying = waiting.filter((w) => /^\s*copy\b/i.test(w.query));
    return copying.length === 1 && waiting.length > copying.length;
  });
  return { response, serverGone: () => (serverGone(), holder) };
}

describe.each<[ShutdownMode, string]>([
  ["immediate", "c4a5"],
  ["fast", "fa57"],
])("PostgreSQL stopped (%s) in the middle of a job", (mode, prefix) => {
  it("answers 503 while down; afterwards the same worker finishes every job, nothing lost", { timeout: 180_000 }, async () => {
    const { worker } = stack;
    const [pool] = await waitFor("the worker's pool to beat", async () => {
      const rows = await pg.sql<{ id: string }[]>`select id from worker_pools`;
      return rows.length === 1 ? rows : undefined;
    });

    const jobId = await created(foundHashes(prefix, HASHES));
    await waitFor("the job to be under way", async () => ((await reportOf(jobId))?.counts.completed ?? 0) >= 3);
    // Accepted just before the stop: its rows and its queue jobs committed in one transaction.
    const lateHashes = foundHashes(`${prefix}1a7e`, LATE_HASHES);
    const lateId = await created(lateHashes);
    const halfWritten = foundHashes(`${prefix}4a1f`, 5);
    const caught = await transactionsCaughtMidway(halfWritten);

    await pg.stopServer(mode);
    const stoppedAt = Date.now();
    await caught.serverGone();

    // The job being written when the server went: refused as unavailable, to be sent again.
    const refused = await caught.response;
    expect(refused.status).toBe(503);
    expect(await refused.json()).toEqual(UNAVAILABLE);
    const health = await HEALTH();
    expect(health.status).toBe(503);
    expect(await health.json()).toEqual(UNAVAILABLE);
    const write = await post(foundHashes(`${prefix}0ff`, 3));
    expect(write.status).toBe(503);
    expect(await write.json()).toEqual(UNAVAILABLE);
    const read = await get(jobId);
    expect(read.status).toBe(503);
    expect(await read.json()).toEqual(UNAVAILABLE);
    // A load balancer's polling for the rest of the outage: always 503 in the error shape, within health's bound.
    while (Date.now() - stoppedAt < DOWN_MS) {
      const started = Date.now();
      const polled = await HEALTH();
      expect(polled.status).toBe(503);
      expect((await polled.json()).error.code).toBe("unavailable");
      expect(Date.now() - started).toBeLessThan(10_000);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }

    expect(worker.process.exitCode, worker.lines.slice(-20).join("\n")).toBeNull();
    await pg.startServer();
    const restartedAt = Date.now();

    // The routes' pool reconnects by itself.
    const healthy = await waitFor(
      "/api/health to answer 200",
      async () => {
        const response = await HEALTH();
        return response.status === 200 ? response : undefined;
      },
      60_000,
    );
    expect(await healthy.json()).toMatchObject({ status: "ok", database: "ok" });
    const backAfterMs = Date.now() - restartedAt;

    // Nothing of the refused job was kept; all of the late one was, in its order.
    expect(await pg.sql`select job_id from tasks where hash = any(${halfWritten})`).toEqual([]);
    const lateTasks = await pg.sql<{ hash: string }[]>`select hash from tasks where job_id = ${lateId} order by position`;
    expect(lateTasks.map((t) => t.hash)).toEqual(lateHashes);

    // The worker carries on by itself too: both jobs end, every hash answered, none failed, none left pending.
    for (const [id, total] of [
      [jobId, HASHES],
      [lateId, LATE_HASHES],
    ] as const) {
      const report = await waitFor(
        `job ${id} to complete`,
        async () => {
          const r = await reportOf(id);
          return r?.status === "completed" ? r : undefined;
        },
        120_000,
      );
      expect(report.counts).toEqual({ total, pending: 0, completed: total, notFound: 0, failed: 0, cancelled: 0 });
    }
    const fromApi = await get(lateId);
    expect(fromApi.status).toBe(200);
    expect((await fromApi.json()).status).toBe("completed");
    const doneAfterMs = Date.now() - restartedAt;
    console.log(`[db-restart ${mode}] health 200 ${backAfterMs / 1000} s and both jobs done ${doneAfterMs / 1000} s after the restart`);

    // The same process and the same pool: not restarted, nor declared dead and replaced.
    expect(worker.process.exitCode, worker.lines.slice(-20).join("\n")).toBeNull();
    expect(worker.lines.filter((line) => line.includes('"event":"worker_started"'))).toHaveLength(1);
    expect(await pg.sql`select id from worker_pools`).toEqual([{ id: pool.id }]);
    // Nothing left behind in the queue or the leases.
    await waitFor("the queue to empty", async () => (await pg.sql`select id from graphile_worker._private_jobs`).length === 0, 15_000);
    expect(await pg.sql`select hash from lookup_leases`).toEqual([]);
  });
});
