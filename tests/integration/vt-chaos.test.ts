// A real worker against a VirusTotal that misbehaves (issue 9): about 30 % of answers are 5xx, some never come
// before the client's timeout, some connections are reset mid-answer, some are a 200 with truncated JSON. Every
// task still ends with exactly one outcome, and no hash is asked again once an answer got through. The faults
// are decided per hash and attempt (helpers/chaos-proxy.ts), so each run meets the same ones.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createJob, type CreateJobOptions } from "../../lib/jobs/create";
import { getJobReport } from "../../lib/jobs/report";
import { seededFaults, startChaosProxy, type ChaosProxy, type ChaosRequest, type Fault, type FaultPlan } from "./helpers/chaos-proxy";
import { startSimulator, startWorker, waitFor, type WorkerProcess } from "./helpers/stack";
import { createTestDatabase, type TestDatabase } from "./helpers/test-database";

const MAX_ATTEMPTS = 3;
const TIMEOUT_SECONDS = 2;
const named = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => prefix + i.toString(16).padStart(32 - prefix.length, "0"));
// Two hashes never answered in time, or never without a reset: they run out of attempts whatever the seed does.
const ALWAYS_SLOW = "a1105".padEnd(32, "0");
const ALWAYS_RESET = "a1107e5e7".padEnd(32, "0");
const seeded = seededFaults("vt-chaos-4", { server_error: 0.3, slow: 0.08, reset: 0.08, truncated: 0.05 });
const plan = (hash: string, n: number): FaultPlan => {
  const variant = n % 2 ? "before-headers" : "mid-body";
  if (hash === ALWAYS_SLOW) return { fault: "slow", variant };
  if (hash === ALWAYS_RESET) return { fault: "reset", variant };
  return seeded(hash, n);
};

// This seed, with these hashes, gives every fault in every form and every outcome (checked below): change one,
// and check the mix again. `dead…`: the simulator does not know them, so a 404 that gets through is their answer.
const first = [...named("c4a05", 42), ...named("dead05", 6), ALWAYS_SLOW, ALWAYS_RESET];
// A second job asks for every hash of the first, while it runs, and for some of its own.
const second = [...first, ...named("c4a06", 8)];

const options: CreateJobOptions = { cache: { ttlHours: 24, sources: ["simulator"] }, lookupMaxAttempts: MAX_ATTEMPTS };

/** What the worker was given by a request, whatever the simulator said behind the proxy. */
type Received = { kind: "report" } | { kind: "not_found" } | { kind: "malformed"; reason: string } | { kind: "transient"; reason: string };

const TIMED_OUT = `VirusTotal did not answer within ${TIMEOUT_SECONDS} s`;
const RESET = "VirusTotal could not be reached (connection reset, ECONNRESET)";
const TRANSIENT_REASONS: Record<string, string> = {
  "server_error/503": "VirusTotal is temporarily unavailable (TransientError: Transient error, please retry; retry after 1 s)",
  "server_error/502": "VirusTotal is temporarily unavailable (HTTP 502)",
  "server_error/504": "VirusTotal is temporarily unavailable (HTTP 504)",
  "server_error/500": "VirusTotal is temporarily unavailable (InternalError: Internal server error)",
  "slow/before-headers": TIMED_OUT,
  "slow/mid-body": TIMED_OUT,
  "reset/before-headers": RESET,
  "reset/mid-body": RESET,
};

function received(request: ChaosRequest): Received {
  if (request.clientLeft) return { kind: "transient", reason: TIMED_OUT };
  if (request.fault === "truncated") return { kind: "malformed", reason: "VirusTotal answered HTTP 200 with a body that is not JSON" };
  if (request.fault !== "none") return { kind: "transient", reason: TRANSIENT_REASONS[`${request.fault}/${request.variant}`]! };
  if (request.upstreamStatus === 200) return { kind: "report" };
  if (request.upstreamStatus === 404) return { kind: "not_found" };
  throw new Error(`the simulator answered ${request.upstreamStatus} for ${request.hash}`);
}

type Ending = { status: "completed" | "not_found"; error: null } | { status: "failed"; error: string };

/** One lookup's life: transient answers, then a final one or none (its attempts ran out), and how its tasks end. */
interface Life {
  requests: ChaosRequest[];
  ending: Ending | null;
}

/**
 * A hash's requests cut into lookups: a lookup ends at its first answer that is not transient, or after
 * MAX_ATTEMPTS transient ones. A lookup left without an ending asked fewer times than it may, and stopped.
 */
function livesOf(requests: ChaosRequest[]): Life[] {
  const lives: Life[] = [];
  let life: Life | null = null;
  for (const request of requests) {
    if (!life || life.ending) lives.push((life = { requests: [], ending: null }));
    life.requests.push(request);
    const answer = received(request);
    if (answer.kind === "report") life.ending = { status: "completed", error: null };
    else if (answer.kind === "not_found") life.ending = { status: "not_found", error: null };
    else if (answer.kind === "malformed") life.ending = { status: "failed", error: answer.reason };
    else if (life.requests.length === MAX_ATTEMPTS) {
      life.ending = { status: "failed", error: `Gave up after ${MAX_ATTEMPTS} attempts: ${answer.reason}` };
    }
  }
  return lives;
}

let t: TestDatabase;
let sim: Awaited<ReturnType<typeof startSimulator>>;
let proxy: ChaosProxy;
let worker: WorkerProcess;

beforeAll(async () => {
  t = await createTestDatabase("chaos_vt");
  sim = await startSimulator();
  proxy = await startChaosProxy({ upstream: new URL(sim.apiUrl).origin, plan });
  worker = startWorker({
    DATABASE_URL: t.url,
    SIMULATOR_URL: proxy.apiUrl,
    LOOKUP_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
    VT_REQUEST_TIMEOUT_SECONDS: String(TIMEOUT_SECONDS),
    // The budget is not under test: nothing may wait for a request slot.
    VT_REQUESTS_PER_MINUTE: "100000",
  });
});
afterAll(async () => {
  await worker?.stop();
  await proxy?.close();
  await sim?.simulator.close();
  await t?.drop();
});

const outcomes = async (jobId: string) => {
  const report = await getJobReport(t.db, jobId, { limit: 1000 });
  return new Map(report!.results.map((r) => [r.hash, { status: r.status, error: r.error }]));
};
const jobDone = (jobId: string) =>
  waitFor(`job ${jobId} to complete`, async () => {
    const report = await getJobReport(t.db, jobId, { limit: 1000 });
    return report?.status === "completed" ? report : undefined;
  }, 90_000);
const requestsFor = (hash: string) => proxy.requests().filter((r) => r.hash === hash);

describe("a VirusTotal that fails a third of its answers", () => {
  let firstEnded: Map<string, Ending>;

  it("ends every task of two overlapping jobs with exactly one outcome, the one its hash's answers call for", { timeout: 120_000 }, async () => {
    const jobA = (await createJob(t.db, { hashes: first }, options)).id;
    // The second job meets hashes already answered, being asked, and given up on.
    await waitFor("half of the first job to end", async () => {
      const report = await getJobReport(t.db, jobA, { limit: 1 });
      return report!.counts.pending <= first.length / 2;
    }, 60_000);
    const jobB = (await createJob(t.db, { hashes: second }, options)).id;

    const reportA = await jobDone(jobA);
    firstEnded = (await outcomes(jobA)) as Map<string, Ending>;
    const reportB = await jobDone(jobB);

    for (const [report, total] of [[reportA, first.length], [reportB, second.length]] as const) {
      expect(report.counts).toMatchObject({ total, pending: 0, cancelled: 0 });
      expect(report.counts.completed + report.counts.notFound + report.counts.failed).toBe(total);
    }
    const endedA = await outcomes(jobA);
    const endedB = await outcomes(jobB);
    // Written once: nothing the second job's lookups did rewrote an outcome of the first.
    expect(endedA).toEqual(firstEnded);
    for (const hash of first) {
      const lives = livesOf(requestsFor(hash));
      // The first job's tasks end as the hash's first lookup did; the second's as its last (the same lookup, joined
      // while it ran, or answered from the cache without a request, or a new one after the first gave up).
      expect(endedA.get(hash), hash).toEqual(lives[0]?.ending);
      expect(endedB.get(hash), hash).toEqual(lives.at(-1)?.ending);
    }
    for (const hash of second.filter((h) => !first.includes(h))) {
      const lives = livesOf(requestsFor(hash));
      expect(lives, hash).toHaveLength(1);
      expect(endedB.get(hash), hash).toEqual(lives[0]!.ending);
    }
    // The outcomes the chaos was chosen to give.
    const statuses = [...endedA.values()].map((o) => (o.error?.startsWith("Gave up") ? "gave up" : o.error ? "malformed" : o.status));
    expect(new Set(statuses)).toEqual(new Set(["completed", "not_found", "malformed", "gave up"]));
  });

  it("never asks again for a hash once an answer got through, nor more than LOOKUP_MAX_ATTEMPTS times for one lookup", () => {
    for (const hash of second) {
      const requests = requestsFor(hash);
      const lives = livesOf(requests);
      // Every lookup ended: none stopped asking while it had attempts left and no answer.
      expect(lives.every((life) => life.ending !== null), hash).toBe(true);
      // A report or a 404 ends the hash's requests for good: nothing comes after it.
      const answered = requests.findIndex((r) => ["report", "not_found"].includes(received(r).kind));
      if (answered >= 0) expect(requests.slice(answered + 1), hash).toEqual([]);
      // A hash is looked up again only for the job that came after its lookup failed: at most once more.
      expect(lives.length, hash).toBeLessThanOrEqual(first.includes(hash) ? 2 : 1);
      // Numbered without a gap: the proxy saw each request exactly once.
      expect(requests.map((r) => r.n)).toEqual(requests.map((_, i) => i + 1));
    }
    // The simulator saw every request the proxy passed on, and nothing else reached it.
    expect(sim.simulator.requests().filter((r) => r.hash !== null)).toHaveLength(proxy.requests().length);
  });

  it("met every fault in every form, a 5xx in about 30 % of answers", () => {
    const requests = proxy.requests();
    const forms = new Set(requests.map((r) => `${r.fault}/${r.variant}`));
    expect([...forms].sort()).toEqual(["none/", "truncated/half", ...Object.keys(TRANSIENT_REASONS)].sort());
    const share = (fault: Fault) => requests.filter((r) => r.fault === fault).length / requests.length;
    expect(share("server_error")).toBeGreaterThan(0.2);
    expect(share("server_error")).toBeLessThan(0.4);
  });

  it("retries 5xx, timeouts and resets up to LOOKUP_MAX_ATTEMPTS times, and fails a truncated 200 at once", () => {
    const lives = second.flatMap((hash) => livesOf(requestsFor(hash)));
    // Each transient form was met with attempts left, and asked again (the lookup went on to a later request).
    const retried = new Set(lives.flatMap((life) => life.requests.slice(0, -1).map((r) => `${r.fault}/${r.variant}`)));
    expect([...retried].sort()).toEqual(Object.keys(TRANSIENT_REASONS).sort());
    // How the first job's failed tasks say it: a truncated 200 once, the rest after every attempt.
    const failed = first.filter((hash) => firstEnded.get(hash)!.status === "failed");
    expect(failed.length).toBeGreaterThanOrEqual(6);
    expect(firstEnded.get(ALWAYS_SLOW)!.error).toBe(`Gave up after ${MAX_ATTEMPTS} attempts: VirusTotal did not answer within ${TIMEOUT_SECONDS} s`);
    expect(firstEnded.get(ALWAYS_RESET)!.error).toBe(`Gave up after ${MAX_ATTEMPTS} attempts: ${RESET}`);
    for (const hash of failed) {
      const [life] = livesOf(requestsFor(hash));
      const last = life!.requests.at(-1)!;
      const { error } = firstEnded.get(hash)!;
      if (last.fault === "truncated") {
        expect(error, hash).toBe("VirusTotal answered HTTP 200 with a body that is not JSON");
      } else {
        expect(life!.requests.map((r) => received(r).kind), hash).toEqual(Array(MAX_ATTEMPTS).fill("transient"));
        expect(error, hash).toBe(`Gave up after ${MAX_ATTEMPTS} attempts: ${TRANSIENT_REASONS[`${last.fault}/${last.variant}`]}`);
      }
    }
  });

  it("gives up on an answer that does not come at its own timeout, never holding on", () => {
    const slow = proxy.requests().filter((r) => r.fault === "slow");
    expect(slow.length).toBeGreaterThan(0);
    for (const request of slow) {
      expect(request.heldTooLong, request.hash).toBeUndefined();
      // Seen from the proxy, whose clock starts after the client's and whose events may run late on a busy machine:
      // bounds that tell "at its timeout" from "at once" or "never", not milliseconds.
      expect(request.abandonedAfterMs).toBeGreaterThanOrEqual((TIMEOUT_SECONDS * 1000) / 2);
      expect(request.abandonedAfterMs).toBeLessThan(TIMEOUT_SECONDS * 1000 + 10_000);
    }
  });

  it("leaves nothing queued or leased, and the worker running without an internal error", async () => {
    expect(await t.sql`select id, key, locked_by from graphile_worker._private_jobs`).toEqual([]);
    expect(await t.sql`select hash from lookup_leases`).toEqual([]);
    expect(worker.process.exitCode).toBeNull();
    const errors = worker.lines.filter((line) => /"level":(50|60)/.test(line));
    expect(errors).toEqual([]);
    expect(worker.lines.filter((line) => line.includes('"event":"lookup"') && line.includes("internal error"))).toEqual([]);
  });
});
