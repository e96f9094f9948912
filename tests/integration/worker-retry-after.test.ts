// A transient error's Retry-After is honoured when it asks for longer than the backoff would wait.
import { expect, it } from "vitest";
import { createJob } from "../../lib/jobs/create";
import { getJobReport } from "../../lib/jobs/report";
import { simulatedOutcome } from "../../lib/virustotal/simulator/reports";
import { useWorkerStack, waitFor } from "./helpers/stack";

const stack = useWorkerStack("worker_retry_after", { simulator: { retryAfterSeconds: 4 }, worker: { LOOKUP_MAX_ATTEMPTS: "3" } });

it("waits for Retry-After (4 s) rather than the first backoff (2 s)", async () => {
  // 5031…: the first request answers 503 with Retry-After, the next one succeeds.
  let hash = "";
  for (let i = 0; !hash; i++) {
    const candidate = `5031${i.toString(16).padStart(28, "0")}`;
    if (simulatedOutcome(candidate).kind === "found") hash = candidate;
  }
  const job = await createJob(stack.t.db, { hashes: [hash] }, { cache: { ttlHours: 24, sources: ["simulator"] }, lookupMaxAttempts: 3 });

  const waiting = await waitFor("the retry to be scheduled", async () => {
    const r = await getJobReport(stack.t.db, job.id, { limit: 1 });
    return r?.results[0].retryAt ? r.results[0] : undefined;
  });
  expect(waiting.error).toBe("VirusTotal is temporarily unavailable (TransientError: Transient error, please retry; retry after 4 s) (attempt 1 of 3)");

  const done = await waitFor("the job", async () => {
    const r = await getJobReport(stack.t.db, job.id, { limit: 1 });
    return r?.status === "completed" ? r : undefined;
  });
  expect(done.results[0]).toMatchObject({ status: "completed", error: null, retryAt: null });
  const [first, second, ...more] = stack.sim.simulator.requests().filter((r) => r.hash === hash);
  expect([first.status, second.status, more.length]).toEqual([503, 200, 0]);
  expect(Date.parse(second.at) - Date.parse(first.at)).toBeGreaterThanOrEqual(4000);
});
