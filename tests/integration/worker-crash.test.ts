// A worker process killed with SIGKILL in the middle of its lookups: another process notices the silent pool,
// releases its jobs and leases and finishes the job, with nothing lost and no file asked for twice
// except the ones whose answer died with the process.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createJob } from "../../lib/jobs/create";
import { getJobReport } from "../../lib/jobs/report";
import { foundHashes } from "./helpers/hashes";
import { startSimulator, startWorker, waitFor, type WorkerProcess } from "./helpers/stack";
import { createTestDatabase, type TestDatabase } from "./helpers/test-database";

const HEARTBEAT_SECONDS = 1;
const STALE_SECONDS = 3;
const REQUEST_TIMEOUT_SECONDS = 2;
const LATENCY_MS = 1500;
const CONCURRENCY = 4;
const HASHES = 8;

const settings = {
  VT_API_KEY: "",
  WORKER_CONCURRENCY: String(CONCURRENCY),
  WORKER_HEARTBEAT_SECONDS: String(HEARTBEAT_SECONDS),
  WORKER_STALE_SECONDS: String(STALE_SECONDS),
  VT_REQUEST_TIMEOUT_SECONDS: String(REQUEST_TIMEOUT_SECONDS),
};

let t: TestDatabase;
let sim: Awaited<ReturnType<typeof startSimulator>>;
const started: WorkerProcess[] = [];

beforeAll(async () => {
  t = await createTestDatabase("worker_crash");
  // Slow answers keep worker A's lookups in flight long enough to kill it in the middle of them.
  sim = await startSimulator({ latencyMs: LATENCY_MS });
});
afterAll(async () => {
  await Promise.all(started.map((w) => w.stop()));
  await sim?.simulator.close();
  await t?.drop();
});

describe("a worker killed in the middle of its lookups", () => {
  it("has its jobs released and finished by another worker, nothing lost, no file asked twice needlessly", { timeout: 80_000 }, async () => {
    const a = startWorker({ ...settings, DATABASE_URL: t.url, SIMULATOR_URL: sim.apiUrl });
    started.push(a);
    const poolA = await waitFor("worker A's pool to beat", async () => {
      const [row] = await t.sql<{ id: string; pid: number }[]>`select id, pid from worker_pools`;
      return row;
    });
    // tsx runs the worker in a child of its own: the pool's pid is the real worker, not the process we spawned.
    expect(isRunning(poolA.pid)).toBe(true);

    const hashes = foundHashes("c7a5", HASHES);
    const job = await createJob(t.db, { hashes }, { cache: { ttlHours: 24, sources: ["virustotal", "simulator"] }, lookupMaxAttempts: 10 });
    await waitFor("A's lookups to reach the simulator", async () => fileRequests().length >= CONCURRENCY);

    process.kill(-a.process.pid!, "SIGKILL");
    const killedAt = Date.now();
    await a.exited;
    await waitFor("the real worker process to die", async () => !isRunning(poolA.pid), 5_000);
    const inFlight = new Set(fileRequests().map((r) => r.hash!));
    expect(inFlight.size).toBeGreaterThanOrEqual(CONCURRENCY);
    // Answers that arrived before the kill were saved; the others died with the process.
    const savedByA = new Set((await t.sql<{ md5: string }[]>`select md5 from reports`).map((r) => r.md5));
    const lost = [...inFlight].filter((hash) => !savedByA.has(hash));
    expect(lost.length).toBeGreaterThan(0);
    const lockedByA = () => t.sql<{ id: string }[]>`select id from graphile_worker._private_jobs where locked_by = ${poolA.id}`;
    expect((await lockedByA()).length).toBeGreaterThanOrEqual(lost.length);

    const b = startWorker({ ...settings, DATABASE_URL: t.url, SIMULATOR_URL: sim.apiUrl });
    started.push(b);

    // B's heartbeat notices that A stopped beating and releases A's jobs: within the stale time, one beat, and
    // B's own start-up (tsx takes a few seconds on a busy machine).
    const released = await waitFor("B to release A's jobs", async () =>
      b.lines.find((line) => line.includes('"event":"released_stale_pools"') && line.includes(poolA.id)),
    );
    const releasedAt = (JSON.parse(released) as { time: number }).time;
    expect(Date.now() - killedAt).toBeLessThan((STALE_SECONDS + HEARTBEAT_SECONDS + 8) * 1000);
    expect(await lockedByA()).toEqual([]);
    expect(await t.sql`select id from worker_pools where id = ${poolA.id}`).toEqual([]);

    // The release frees A's leases too, so the job ends soon after. Bound from the kill: the stale time and a beat
    // for the release, B's start-up, then a poll (1 s) and the simulator's latency (up to 1.8 s) for the lookups.
    const boundMs = (STALE_SECONDS + HEARTBEAT_SECONDS + 12) * 1000;
    const report = await waitFor(
      "the job to complete",
      async () => {
        const r = await getJobReport(t.db, job.id, { limit: 100 });
        return r?.status === "completed" ? r : undefined;
      },
      boundMs - (Date.now() - killedAt),
    );
    expect(report.counts).toMatchObject({ total: HASHES, failed: 0, pending: 0, cancelled: 0 });
    expect(report.counts.completed + report.counts.notFound).toBe(HASHES);

    // Nothing is left behind: no queued or locked lookup, no lease.
    expect(await t.sql`select id, locked_by from graphile_worker._private_jobs`).toEqual([]);
    expect(await t.sql`select hash from lookup_leases`).toEqual([]);

    // A file is asked again only when A's answer for it was lost, and only once A was known dead.
    const requests = fileRequests();
    const perHash = (hash: string) => requests.filter((r) => r.hash === hash);
    for (const hash of hashes) {
      if (!lost.includes(hash)) {
        expect(perHash(hash), hash).toHaveLength(1);
        continue;
      }
      const [first, second, ...more] = perHash(hash);
      expect(more, hash).toEqual([]);
      expect(second, hash).toBeDefined();
      expect(new Date(first.at).getTime(), hash).toBeLessThan(killedAt);
      expect(new Date(second.at).getTime(), hash).toBeGreaterThanOrEqual(releasedAt);
    }
    expect(requests.every((r) => r.status === 200)).toBe(true);
  });
});

describe("a worker killed during a lookup's last attempt", () => {
  it("fails those tasks with the reason instead of leaving them pending forever", { timeout: 60_000 }, async () => {
    await Promise.all(started.splice(0).map((w) => w.stop()));
    const a = startWorker({ ...settings, DATABASE_URL: t.url, SIMULATOR_URL: sim.apiUrl });
    started.push(a);
    await waitFor("worker A's pool to beat", async () => (await t.sql`select id from worker_pools`).length === 1);
    const before = fileRequests().length;
    const job = await createJob(t.db, { hashes: foundHashes("1a57", CONCURRENCY) }, {
      cache: { ttlHours: 24, sources: ["simulator"] },
      lookupMaxAttempts: 1,
    });
    await waitFor("A's lookups to reach the simulator", async () => fileRequests().length - before >= CONCURRENCY);
    process.kill(-a.process.pid!, "SIGKILL");
    await a.exited;

    started.push(startWorker({ ...settings, DATABASE_URL: t.url, SIMULATOR_URL: sim.apiUrl }));
    const report = await waitFor("the job to end", async () => {
      const r = await getJobReport(t.db, job.id, { limit: 100 });
      return r?.status === "completed" ? r : undefined;
    });
    expect(report.counts.pending).toBe(0);
    expect(report.counts.failed).toBeGreaterThan(0);
    for (const result of report.results.filter((r) => r.status === "failed")) {
      expect(result.error).toBe("Gave up after 1 attempts: the worker running the lookup stopped");
    }
    // Nothing is left behind: no dead queue row standing for those hashes (a later job would wait on it forever).
    await waitFor("the queue to empty", async () => (await t.sql`select id from graphile_worker._private_jobs`).length === 0, 10_000);
    expect(await t.sql`select hash from lookup_leases`).toEqual([]);
  });
});

const fileRequests = () => sim.simulator.requests().filter((r) => r.hash !== null);

/** Whether a pid is a live process; a zombie (killed, not yet reaped by an init that may never reap it) is not. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0] !== "Z";
  } catch {
    return true;
  }
}
