// The lookup engine's edges with real worker processes (issue 6): a worker that falls silent (SIGSTOP) while its
// lookups run and comes back after they were taken over; a cancel while a lookup waits or asks; an answer that
// PostgreSQL would refuse as sent.
import { once } from "node:events";
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createJob, type CreateJobOptions } from "../../lib/jobs/create";
import { cancelJob } from "../../lib/jobs/manage";
import { getJobReport } from "../../lib/jobs/report";
import { simulatedOutcome } from "../../lib/virustotal/simulator/reports";
import { foundHashes } from "./helpers/hashes";
import { startSimulator, startWorker, waitFor, type WorkerProcess } from "./helpers/stack";
import { createTestDatabase, type TestDatabase } from "./helpers/test-database";

let t: TestDatabase;
const workers: WorkerProcess[] = [];
const closers: (() => Promise<void>)[] = [];
beforeAll(async () => {
  t = await createTestDatabase("worker_edges");
});
afterEach(async () => {
  for (const w of workers.splice(0)) {
    try {
      process.kill(-w.process.pid!, "SIGCONT");
    } catch {
      // gone
    }
    await w.stop();
  }
  for (const close of closers.splice(0)) await close();
  await t.sql`delete from worker_pools`;
});
afterAll(async () => t?.drop());

const options: CreateJobOptions = { cache: { ttlHours: 24, sources: ["virustotal", "simulator"] }, lookupMaxAttempts: 10 };
const jobDone = (id: string, timeoutMs = 30_000) =>
  waitFor("the job to end", async () => {
    const r = await getJobReport(t.db, id, { limit: 100 });
    return r && r.counts.pending === 0 ? r : undefined;
  }, timeoutMs);
const nothingLeft = async () => {
  expect(await t.sql`select id, key, locked_by from graphile_worker._private_jobs`).toEqual([]);
  expect(await t.sql`select hash from lookup_leases`).toEqual([]);
};
const lookupLines = (w: WorkerProcess) => w.lines.filter((l) => l.includes('"event":"lookup"')).map((l) => JSON.parse(l));

describe("5. a worker that falls silent while its lookups run", () => {
  it("has them taken over; when it wakes, it writes and deletes nothing and exits, and each request is counted once", { timeout: 90_000 }, async () => {
    const sim = await startSimulator({ latencyMs: 2500 });
    closers.push(() => sim.simulator.close());
    const settings = {
      DATABASE_URL: t.url,
      SIMULATOR_URL: sim.apiUrl,
      WORKER_CONCURRENCY: "3",
      WORKER_HEARTBEAT_SECONDS: "1",
      WORKER_STALE_SECONDS: "3",
    };
    const a = startWorker(settings);
    workers.push(a);
    const [poolA] = await waitFor("A's pool to beat", async () => {
      const rows = await t.sql<{ id: string }[]>`select id from worker_pools`;
      return rows.length === 1 ? rows : undefined;
    });
    const hashes = foundHashes("5f0c", 3);
    const job = await createJob(t.db, { hashes }, options);
    const fileRequests = () => sim.simulator.requests().filter((r) => r.hash !== null);
    await waitFor("A's lookups to reach the simulator", async () => fileRequests().length >= 3);
    process.kill(-a.process.pid!, "SIGSTOP");

    const b = startWorker(settings);
    workers.push(b);
    await waitFor("B to release A's jobs", async () => b.lines.some((l) => l.includes('"event":"released_stale_pools"') && l.includes(poolA.id)));
    const report = await jobDone(job.id);
    expect(report.counts).toMatchObject({ total: 3, completed: 3, failed: 0 });

    process.kill(-a.process.pid!, "SIGCONT");
    // A wakes to find it was declared dead: it exits at its next beat. Its answers, if they arrive first, find
    // their rows gone: each such run writes nothing.
    const exitCode = await Promise.race([a.exited, new Promise((resolve) => setTimeout(() => resolve("still running"), 20_000))]);
    expect(exitCode).toBe(75);
    expect(a.lines.some((l) => l.includes('"event":"pool_declared_dead"'))).toBe(true);
    expect(lookupLines(a)).toEqual([]);
    await nothingLeft();
    expect((await getJobReport(t.db, job.id, { limit: 100 }))!.counts).toMatchObject({ completed: 3, pending: 0 });

    // Every request that was sent is counted once: A's three (their slots were claimed before it stopped) and B's.
    const [counted] = await t.sql<{ n: number }[]>`select count(*)::int as n from vt_requests`;
    expect(counted.n).toBe(fileRequests().length);
    expect(fileRequests()).toHaveLength(6);
  });
});

describe("6. quota spent for nobody", () => {
  it("a lookup waiting for a slot when its job is cancelled never asks", { timeout: 60_000 }, async () => {
    const sim = await startSimulator({ latencyMs: 0 });
    closers.push(() => sim.simulator.close());
    const w = startWorker({
      DATABASE_URL: t.url,
      SIMULATOR_URL: sim.apiUrl,
      WORKER_CONCURRENCY: "2",
      VT_REQUESTS_PER_MINUTE: "1",
      VT_RATE_WINDOW_SECONDS: "4",
    });
    workers.push(w);
    await waitFor("the worker to start", async () => w.lines.some((l) => l.includes('"event":"worker_started"')));
    await t.sql`delete from vt_requests`;
    const job = await createJob(t.db, { hashes: foundHashes("6a0c", 2) }, options);
    await waitFor("the first request", async () => sim.simulator.requests().some((r) => r.hash !== null));
    // The second lookup now waits (about 5 s) for the next slot.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await cancelJob(t.db, job.id)).toEqual({ cancelled: 1 });
    await waitFor("the waiting lookup to give up", async () => lookupLines(w).some((l) => l.outcome === "unwanted"), 15_000);
    expect(sim.simulator.requests().filter((r) => r.hash !== null)).toHaveLength(1);
    const [counted] = await t.sql<{ n: number }[]>`select count(*)::int as n from vt_requests`;
    expect(counted.n).toBe(1);
    await nothingLeft();
  });

  it("a lookup whose job is cancelled while it asks does not queue itself again", { timeout: 60_000 }, async () => {
    const sim = await startSimulator({ latencyMs: 1500 });
    closers.push(() => sim.simulator.close());
    const w = startWorker({ DATABASE_URL: t.url, SIMULATOR_URL: sim.apiUrl });
    workers.push(w);
    const hash = "5030" + "6b".repeat(14); // the simulator answers 503 to it, every time
    expect(simulatedOutcome(hash).kind).toBe("unavailable");
    const job = await createJob(t.db, { hashes: [hash] }, options);
    await waitFor("the request to be in flight", async () => (await t.sql`select hash from lookup_leases`).length === 1);
    expect(await cancelJob(t.db, job.id)).toEqual({ cancelled: 1 });
    await waitFor("the lookup to settle", async () => lookupLines(w).some((l) => l.hash === hash));
    // Its backoff is 2 s: had it queued itself again, a second request would come by now.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(sim.simulator.requests().filter((r) => r.hash === hash)).toHaveLength(1);
    await nothingLeft();
  });
});

describe("7. a paid answer PostgreSQL would refuse as sent", () => {
  it("is stored, with NUL and an absurd scan date made harmless, after one request", { timeout: 60_000 }, async () => {
    const body = readFileSync("tests/fixtures/vt/001015aafcae8a6942366cbb0e7d39c0738752a7800c41ea1c655d47b0a4d04c.json", "utf8");
    const report = JSON.parse(body);
    report.data.attributes.meaningful_name = "evil\u0000.doc";
    report.data.attributes.last_analysis_date = 1e15;
    report.data.attributes.names = ["a\u0000b", "\ud800"];
    const sent = JSON.stringify(report);
    expect(sent).toContain("\\u0000");
    let asked = 0;
    const server = http.createServer((req, res) => {
      asked++;
      res.writeHead(200, { "content-type": "application/json" }).end(sent);
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    closers.push(() => new Promise((resolve) => server.close(() => resolve())));
    const w = startWorker({
      DATABASE_URL: t.url,
      VT_API_KEY: "k".repeat(64),
      VT_API_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v3`,
    });
    workers.push(w);
    const job = await createJob(t.db, { hashes: [report.data.attributes.md5] }, { ...options, cache: { ttlHours: 24, sources: ["virustotal"] } });
    const done = await jobDone(job.id);
    expect(done.results[0]).toMatchObject({ status: "completed", detected: 53, engines: 62, scanDate: null, fortinet: "WM/Moat.81C2F10E!tr" });
    expect(asked).toBe(1);
    const [stored] = await t.sql<{ name: string }[]>`
      select meaningful_name as name from reports where md5 = ${report.data.attributes.md5} and source = 'virustotal'`;
    expect(stored.name).toBe("evil\ufffd.doc");
    await nothingLeft();
  });
});
