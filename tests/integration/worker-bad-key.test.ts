// A key VirusTotal rejects pauses every lookup (nothing fails) and says why, until a worker restarts with a key
// that works; then the waiting lookups run at once.
import { afterAll, beforeAll, expect, it } from "vitest";
import { createJob } from "../../lib/jobs/create";
import { getJobReport } from "../../lib/jobs/report";
import { getServiceStatus } from "../../lib/jobs/status";
import { startSimulator, startWorker, waitFor, type WorkerProcess } from "./helpers/stack";
import { createTestDatabase, type TestDatabase } from "./helpers/test-database";

const BAD_KEY = "wrong-key-0123456789abcdef0123456789abcdef";
const GOOD_KEY = "good-key-0123456789abcdef0123456789abcdef";
let t: TestDatabase;
let sim: Awaited<ReturnType<typeof startSimulator>>;
let worker: WorkerProcess | undefined;

beforeAll(async () => {
  // This process reads reports as a web app configured with the same (bad) key would.
  process.env.VT_API_KEY = BAD_KEY;
  t = await createTestDatabase("worker_bad_key");
  sim = await startSimulator();
});
afterAll(async () => {
  await worker?.stop();
  await sim?.simulator.close();
  await t?.drop();
});

it("pauses on a rejected key without failing anything, and resumes when the worker restarts with a good one", async () => {
  worker = startWorker({ DATABASE_URL: t.url, VT_API_KEY: BAD_KEY, VT_API_URL: sim.apiUrl, WORKER_CONCURRENCY: "1" });
  const hashes = ["0496f4962d3dce3caa849f605749f7f2", "e85463d19104cacd79a25cacb0b57c1d", "ad04e313410dd865916b720e03e6b77e"];
  const job = await createJob(t.db, { hashes }, { cache: { ttlHours: 24, sources: ["virustotal"] }, lookupMaxAttempts: 3 });

  const paused = await waitFor("the pause", async () => {
    const report = await getJobReport(t.db, job.id, { limit: 10 });
    return report?.pause ? report : undefined;
  });
  expect(paused.pause).toMatchObject({ cause: "bad_key" });
  expect(paused.pause?.reason).toContain("VirusTotal rejected the API key (WrongCredentialsError: Wrong API key)");
  expect((await getServiceStatus(t.db)).pause?.cause).toBe("bad_key");
  // Give the other lookups time to (wrongly) try: only the first request was spent, and nothing failed.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  expect(sim.simulator.requests().filter((r) => r.hash !== null)).toHaveLength(1);
  const stillPaused = await getJobReport(t.db, job.id, { limit: 10 });
  expect(stillPaused?.counts).toMatchObject({ pending: 3, failed: 0 });
  for (const result of stillPaused!.results) expect(result.retryAt).toBe(paused.pause?.until);
  expect(worker.lines.join("\n")).not.toContain(BAD_KEY);

  await worker.stop();
  worker = startWorker({ DATABASE_URL: t.url, VT_API_KEY: GOOD_KEY, VT_API_URL: sim.apiUrl });
  const done = await waitFor("the job to complete", async () => {
    const report = await getJobReport(t.db, job.id, { limit: 10 });
    return report?.status === "completed" ? report : undefined;
  });
  // The good key has a budget of its own: the old key's pause does not hold it back.
  const pauses = await t.sql<{ cause: string }[]>`select cause from vt_pause where until > now()`;
  expect(pauses.map((p) => p.cause)).toEqual(["bad_key"]);
  expect(done.counts.failed).toBe(0);
  expect(done.counts.completed + done.counts.notFound).toBe(3);
});
