// Our own counter reaching VT_REQUESTS_PER_DAY pauses lookups until the next UTC day, before VirusTotal has to
// refuse anything; the pause is visible to the web app and the waiting tasks say when they will run.
import { expect, it } from "vitest";
import { createJob } from "../../lib/jobs/create";
import { getJobReport } from "../../lib/jobs/report";
import { getServiceStatus } from "../../lib/jobs/service-status";
import { nextUtcResets } from "../../lib/budget/resets";
import { foundHashes } from "./helpers/hashes";
import { useWorkerStack, waitFor } from "./helpers/stack";

process.env.VT_REQUESTS_PER_DAY = "3"; // for getServiceStatus, read in this process
const stack = useWorkerStack("worker_daily_limit", { worker: { VT_REQUESTS_PER_DAY: "3" } });

it("stops at the daily limit and waits for the next UTC day", async () => {
  const job = await createJob(stack.t.db, { hashes: foundHashes("da11", 5) }, {
    cache: { ttlHours: 24, sources: ["simulator"] },
    lookupMaxAttempts: 3,
  });
  const paused = await waitFor("the pause", async () => {
    const report = await getJobReport(stack.t.db, job.id, { limit: 10 });
    return report?.pause && report.counts.completed === 3 ? report : undefined;
  });
  const midnight = nextUtcResets(Date.now()).day.toISOString();
  expect(paused.pause).toMatchObject({ cause: "daily_limit", until: midnight });
  expect(paused.counts).toMatchObject({ completed: 3, pending: 2, failed: 0 });
  for (const result of paused.results.filter((r) => r.status === "pending")) expect(result.retryAt).toBe(midnight);
  expect(Date.parse(paused.estimatedCompletion!)).toBeGreaterThanOrEqual(Date.parse(midnight));

  await new Promise((resolve) => setTimeout(resolve, 1500));
  expect(stack.sim.simulator.requests().filter((r) => r.hash !== null)).toHaveLength(3);
  const status = await getServiceStatus(stack.t.db);
  expect(status.usage).toMatchObject({ today: 3 });
  expect(status.limits.perDay).toBe(3);
  expect(status.pause?.cause).toBe("daily_limit");
  expect(status.workers).toHaveLength(1);
});
