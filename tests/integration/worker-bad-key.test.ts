// A key VirusTotal rejects fails the lookup with a message that says so (never the key itself).
import { afterAll, beforeAll, expect, it } from "vitest";
import { createJob } from "../../lib/jobs/create";
import { getJobReport } from "../../lib/jobs/report";
import { startSimulator, startWorker, waitFor, type WorkerProcess } from "./helpers/stack";
import { createTestDatabase, type TestDatabase } from "./helpers/test-database";

const KEY = "wrong-key-0123456789abcdef0123456789abcdef";
let t: TestDatabase;
let sim: Awaited<ReturnType<typeof startSimulator>>;
let worker: WorkerProcess;

beforeAll(async () => {
  t = await createTestDatabase("worker_bad_key");
  sim = await startSimulator();
  worker = startWorker({ DATABASE_URL: t.url, VT_API_KEY: KEY, VT_API_URL: sim.apiUrl });
});
afterAll(async () => {
  await worker?.stop();
  await sim?.simulator.close();
  await t?.drop();
});

it("fails lookups with a message that names the rejected key, not the key", async () => {
  const job = await createJob(t.db, { hashes: ["0496f4962d3dce3caa849f605749f7f2"] }, {
    cache: { ttlHours: 24, sources: ["virustotal"] },
    lookupMaxAttempts: 3,
  });
  const report = await waitFor("the lookup to fail", async () => {
    const r = await getJobReport(t.db, job.id, { limit: 10 });
    return r?.status === "completed" ? r : undefined;
  });
  expect(report.results[0].status).toBe("failed");
  expect(report.results[0].error).toBe("VirusTotal rejected the API key (WrongCredentialsError: Wrong API key)");
  expect(sim.simulator.requests().filter((r) => r.status === 401)).toHaveLength(1);
  expect(worker.lines.join("\n")).not.toContain(KEY);
});
