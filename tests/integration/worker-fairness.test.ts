// Lookups interleave across jobs, so a small job submitted behind a large one finishes first; a job can be
// cancelled and its failed tasks retried; two jobs created at the same moment share their lookups.
import { beforeAll, describe, expect, it } from "vitest";
import { POST as cancel } from "../../app/api/jobs/[id]/cancel/route";
import { manageTokenFor } from "../../lib/access/manage-token";
import { POST as retry } from "../../app/api/jobs/[id]/retry/route";
import { createJob, type CreateJobOptions } from "../../lib/jobs/create";
import { getJobReport } from "../../lib/jobs/report";
import { foundHashes } from "./helpers/hashes";
import { useWorkerStack, waitFor } from "./helpers/stack";

const stack = useWorkerStack("worker_fairness", {
  // 4 requests per 1-second window (2 s with the limiter's margin): slow enough to see the queue's order.
  worker: { VT_REQUESTS_PER_MINUTE: "4", VT_RATE_WINDOW_SECONDS: "1", LOOKUP_MAX_ATTEMPTS: "1" },
});
process.env.LOOKUP_MAX_ATTEMPTS = "1"; // for the retry route, read in this process
beforeAll(() => {
  process.env.DATABASE_URL = stack.t.url; // for the route handlers
});
const options: CreateJobOptions = { cache: { ttlHours: 24, sources: ["simulator"] }, lookupMaxAttempts: 1 };

const report = (id: string) => getJobReport(stack.t.db, id, { limit: 1000 }).then((r) => r!);
const call = (handler: typeof cancel, id: string) =>
  handler(new Request(`http://x/api/jobs/${id}`, { method: "POST", headers: { "x-manage-token": manageTokenFor(id) } }), {
    params: Promise.resolve({ id }),
  });
const queuedKeys = async () =>
  (await stack.t.sql<{ key: string }[]>`select key from graphile_worker._private_jobs`).map((row) => row.key);

describe("fairness, cancel and retry", () => {
  it("finishes a small job submitted behind a large one first, and estimates when each is done", async () => {
    const large = await createJob(stack.t.db, { hashes: foundHashes("1a", 60) }, options);
    const small = await createJob(stack.t.db, { hashes: foundHashes("5b", 6) }, options);

    const smallBefore = await report(small.id);
    const largeBefore = await report(large.id);
    expect(Date.parse(smallBefore.estimatedCompletion!)).toBeLessThan(Date.parse(largeBefore.estimatedCompletion!));

    await waitFor("the small job", async () => (await report(small.id)).status === "completed", 30_000);
    const largeNow = await report(large.id);
    expect(largeNow.counts.pending).toBeGreaterThan(40);

    // Cancel the large job, except for one hash a third job also needs: that lookup stays queued.
    const shared = foundHashes("1a", 60)[59];
    const third = await createJob(stack.t.db, { hashes: [shared] }, options);
    const response = await call(cancel, large.id);
    expect(response.status).toBe(200);
    const { cancelled } = await response.json();
    expect(cancelled).toBeGreaterThan(40);
    const after = await report(large.id);
    expect(after).toMatchObject({ status: "cancelled", estimatedCompletion: null });
    expect(after.counts.pending).toBe(0);
    expect(after.counts.cancelled).toBe(cancelled);
    const cancelledAt = new Date();
    // Queued lookups left at once; the few running ones (waiting for a slot) leave as soon as they look again.
    const running = await stack.t.sql<{ key: string }[]>`
      select key from graphile_worker._private_jobs where locked_at is not null and key like 'lookup:1a%'`;
    expect(running.length).toBeLessThanOrEqual(4);
    // (The shared one may be done already: the third job's lookup is not waited for here.)
    await waitFor("the cancelled job's running lookups to leave", async () => {
      const keys = await queuedKeys();
      return keys.filter((key) => key.startsWith("lookup:1a") && key !== `lookup:${shared}`).length === 0;
    }, 10_000);
    // None of them asked VirusTotal after the cancel.
    const late = stack.sim.simulator.requests().filter((r) => r.hash?.startsWith("1a") && r.hash !== shared && new Date(r.at) > cancelledAt);
    expect(late).toEqual([]);
    await waitFor("the shared hash", async () => (await report(third.id)).status === "completed", 30_000);
    expect((await report(large.id)).results.find((r) => r.hash === shared)?.status).toBe("cancelled");
  });

  it("retries failed tasks on request", async () => {
    // 5031…: the first request answers 503 (one attempt allowed: failed), the next one succeeds.
    const hash = "5031" + "ab".repeat(14);
    const job = await createJob(stack.t.db, { hashes: [hash] }, options);
    await waitFor("the failure", async () => (await report(job.id)).counts.failed === 1, 30_000);
    expect((await report(job.id)).results[0].error).toMatch(/^Gave up after 1 attempts: VirusTotal is temporarily unavailable/);

    const response = await call(retry, job.id);
    expect(await response.json()).toEqual({ retried: 1 });
    const done = await waitFor("the retried lookup", async () => {
      const r = await report(job.id);
      return r.status === "completed" ? r : undefined;
    });
    expect(done.results[0]).toMatchObject({ status: "completed", error: null });
    expect(await (await call(retry, job.id)).json()).toEqual({ retried: 0 });
    expect((await call(retry, "AAAAAAAAAAAAAAAAAAAAAA")).status).toBe(404);
  });

  it("spends one request per hash for two jobs created at the same moment", async () => {
    const hashes = foundHashes("2c", 5);
    const before = stack.sim.simulator.requests().length;
    const [a, b] = await Promise.all([createJob(stack.t.db, { hashes }, options), createJob(stack.t.db, { hashes }, options)]);
    await waitFor("both jobs", async () => (await report(a.id)).status === "completed" && (await report(b.id)).status === "completed", 30_000);
    const requests = stack.sim.simulator.requests().slice(before);
    expect(requests.map((r) => r.hash).sort()).toEqual([...hashes].sort());
  });

  it("gives a client with three jobs no more turns than a client with one, and runs a client's jobs side by side", async () => {
    const limits = { jobsPerHour: 0, hashesPerDay: 0 };
    const as = (id: string): CreateJobOptions => ({ ...options, client: { id, limits } });
    const before = stack.sim.simulator.requests().length;
    // One client's three jobs, then another client's one, all queued before the first slot frees.
    const a1 = await createJob(stack.t.db, { hashes: foundHashes("d1", 16) }, as("address:192.0.2.1"));
    const a2 = await createJob(stack.t.db, { hashes: foundHashes("d2", 8) }, as("address:192.0.2.1"));
    const a3 = await createJob(stack.t.db, { hashes: foundHashes("d3", 3) }, as("address:192.0.2.1"));
    const b = await createJob(stack.t.db, { hashes: foundHashes("e1", 8) }, as("address:192.0.2.2"));
    await waitFor("every job", async () => {
      const all = await Promise.all([a1, a2, a3, b].map((job) => report(job.id)));
      return all.every((r) => r.status === "completed");
    }, 90_000);

    const order = stack.sim.simulator.requests().slice(before).map((r) => r.hash!.slice(0, 2));
    expect(order).toHaveLength(35);
    // Client b's 8 lookups ran one turn each beside the first client's: done within 8 + 8, and a few more that were
    // already running or turned away by the rate window when b was queued. Per job instead of per client, the first
    // client would have had three turns to b's one (b done at about 30).
    const bDone = order.lastIndexOf("e1") + 1;
    expect(bDone).toBeLessThanOrEqual(16 + 6);
    // The first client's later jobs ran beside its first, not after it: the small third job finished well before it.
    expect(order.lastIndexOf("d3")).toBeLessThan(order.lastIndexOf("d1"));
    expect(order.indexOf("d2")).toBeLessThan(order.lastIndexOf("d1"));
  });
});
