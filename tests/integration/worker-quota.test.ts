// VirusTotal's 429 starts a global pause stored in Postgres: nothing calls VirusTotal until it ends, waiting tasks
// show when they will be tried, and the lookup that hit the wall is not counted as a failed attempt.
import { describe, expect, it } from "vitest";
import { createJob } from "../../lib/jobs/create";
import { getJobReport } from "../../lib/jobs/report";
import { foundHashes } from "./helpers/hashes";
import { useWorkerStack, waitFor } from "./helpers/stack";

const PAUSE_SECONDS = 4;
const stack = useWorkerStack("worker_quota", {
  simulator: { requestsPerDay: 3 },
  worker: { WORKER_CONCURRENCY: "1", LOOKUP_MAX_ATTEMPTS: "1", VT_QUOTA_RETRY_SECONDS: String(PAUSE_SECONDS) },
});

describe("a 429 from VirusTotal", () => {
  it("pauses every lookup until the pause ends, then the rest complete", async () => {
    const hashes = foundHashes("c0ffee", 6);
    const job = await createJob(stack.t.db, { hashes }, {
      cache: { ttlHours: 24, sources: ["simulator"] },
      lookupMaxAttempts: 1,
    });

    const paused = await waitFor("the pause", async () => {
      const report = await getJobReport(stack.t.db, job.id, { limit: 10 });
      return report?.pause ? report : undefined;
    });
    // The simulator's quota endpoint says the day's quota is spent; VT_QUOTA_RETRY_SECONDS is sooner than midnight.
    expect(paused.pause).toMatchObject({ cause: "daily_limit", reason: "the VirusTotal key's daily quota is used up" });
    expect(Date.parse(paused.pause!.until) - Date.now()).toBeLessThanOrEqual(PAUSE_SECONDS * 1000);
    const waiting = paused.results.filter((r) => r.status === "pending");
    expect(waiting.length).toBeGreaterThan(0);
    for (const r of waiting) expect(r.retryAt).toBe(paused.pause?.until);

    // Up to the 429, three lookups; after it, nothing while the pause lasts.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const beforeReset = stack.sim.simulator.requests().filter((r) => r.hash !== null);
    expect(beforeReset.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    // The cause came from one read of the quota endpoint, after the 429 and before anything else: every request the
    // simulator saw is either a file lookup or that read.
    const everything = stack.sim.simulator.requests();
    expect(everything.map((r) => (r.hash === null ? r.path.replace(/\/users\/[^/]+\//, "/users/KEY/") : "file"))).toEqual([
      "file", "file", "file", "file", "/api/v3/users/KEY/overall_quotas",
    ]);
    expect(everything[4].status).toBe(200);

    // The quota comes back (a new day, as far as the simulator knows) while the worker waits.
    stack.sim.simulator.reset();
    const log429 = Date.now();
    const report = await waitFor(
      "the job to complete",
      async () => {
        const r = await getJobReport(stack.t.db, job.id, { limit: 10 });
        return r?.status === "completed" ? r : undefined;
      },
      30_000,
    );
    // Only the requests after the reset remain in the simulator's log: none came before the pause ended.
    const pauseEnd = new Date(paused.pause!.until).getTime();
    const after = stack.sim.simulator.requests().filter((r) => r.hash !== null);
    expect(after.length).toBeGreaterThan(0);
    for (const request of after) expect(new Date(request.at).getTime()).toBeGreaterThanOrEqual(pauseEnd - 50);
    expect(log429).toBeLessThan(pauseEnd);

    // LOOKUP_MAX_ATTEMPTS=1, yet nothing failed: waiting for the pause spent no attempt.
    expect(report.counts).toMatchObject({ total: 6, completed: 6, failed: 0, pending: 0 });
  });
});
