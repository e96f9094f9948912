// A real worker process against the simulator: lookups complete jobs, reuse reports under other names, and each
// VirusTotal outcome (found, 404, 503, malformed) ends as specified.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createJob, type CreateJobOptions } from "../../lib/jobs/create";
import { getJobReport } from "../../lib/jobs/report";
import { simulatedOutcome } from "../../lib/virustotal/simulator/reports";
import { useWorkerStack, waitFor } from "./helpers/stack";

const stack = useWorkerStack("worker_lookups", { worker: { LOOKUP_MAX_ATTEMPTS: "2" } });

const options: CreateJobOptions = { cache: { ttlHours: 24, sources: ["virustotal", "simulator"] }, lookupMaxAttempts: 2 };
const fixtureNames = readFileSync("tests/fixtures/samples/fixture-hashes.csv", "utf8")
  .trim()
  .split("\n")
  .slice(1)
  .map((line) => line.split(",") as [md5: string, sha1: string, sha256: string]);

async function finished(id: string, timeoutMs = 30_000) {
  return waitFor(
    `job ${id} to complete`,
    async () => {
      const report = await getJobReport(stack.t.db, id, { limit: 1000 });
      return report?.status === "completed" ? report : undefined;
    },
    timeoutMs,
  );
}

const fileRequests = () => stack.sim.simulator.requests().filter((r) => r.hash !== null);

describe("the lookup worker", () => {
  it("completes a job from the simulator, with VirusTotal's numbers", async () => {
    const md5s = fixtureNames.map(([md5]) => md5);
    const example = readFileSync("tests/fixtures/samples/example-md5.txt", "utf8");
    const job = await createJob(stack.t.db, { text: `${md5s.join("\n")}\n${example}` }, options);
    const report = await finished(job.id);

    expect(report.counts).toMatchObject({ total: 22, pending: 0, failed: 0 });
    expect(report.counts.completed + report.counts.notFound).toBe(22);
    const moat = report.results.find((r) => r.hash === "b214da9f6b0d6e6de5090b3f9672defe");
    expect(moat).toMatchObject({
      status: "completed",
      sha256: "001015aafcae8a6942366cbb0e7d39c0738752a7800c41ea1c655d47b0a4d04c",
      fortinet: "WM/Moat.81C2F10E!tr",
      fortinetCategory: "malicious",
      detected: 53,
      engines: 62,
      scanDate: "2020-04-10T19:24:05.000Z",
    });
    // One request per distinct hash, no more.
    expect(fileRequests()).toHaveLength(22);
  });

  it("answers a second job that names the same files by SHA-1 and SHA-256 without a single request", async () => {
    const before = fileRequests().length;
    const names = fixtureNames.flatMap(([, sha1, sha256]) => [sha1, sha256]);
    const job = await createJob(stack.t.db, { hashes: names }, options);
    const report = await finished(job.id);
    expect(report.counts).toMatchObject({ total: 14, completed: 14 });
    expect(fileRequests().length).toBe(before);
  });

  it("marks a file VirusTotal does not know as not found, and remembers it", async () => {
    const hash = "dead" + "1".repeat(28);
    const first = await finished((await createJob(stack.t.db, { hashes: [hash] }, options)).id);
    expect(first.results[0]).toMatchObject({ status: "not_found", error: null });
    const before = fileRequests().length;
    const again = await createJob(stack.t.db, { hashes: [hash] }, options);
    expect(again.queued).toBe(0);
    expect((await finished(again.id)).results[0].status).toBe("not_found");
    expect(fileRequests().length).toBe(before);
  });

  it("retries a 503 with backoff and completes when VirusTotal recovers", async () => {
    const hash = findHash("5031", (h) => simulatedOutcome(h).kind === "found");
    const report = await finished((await createJob(stack.t.db, { hashes: [hash] }, options)).id);
    expect(report.results[0]).toMatchObject({ status: "completed", error: null });
    expect(fileRequests().filter((r) => r.hash === hash).map((r) => r.status)).toEqual([503, 200]);
  });

  it("fails a lookup with a readable reason after LOOKUP_MAX_ATTEMPTS transient errors", async () => {
    const hash = "5030" + "2".repeat(28);
    const report = await finished((await createJob(stack.t.db, { hashes: [hash] }, options)).id);
    expect(report.results[0].status).toBe("failed");
    expect(report.results[0].error).toMatch(/^Gave up after 2 attempts: VirusTotal is temporarily unavailable/);
    expect(fileRequests().filter((r) => r.hash === hash)).toHaveLength(2);
  });

  it("fails a malformed answer once, without retrying", async () => {
    const hash = "bad0" + "3".repeat(28);
    const report = await finished((await createJob(stack.t.db, { hashes: [hash] }, options)).id);
    expect(report.results[0].status).toBe("failed");
    expect(report.results[0].error).toBe("VirusTotal answered HTTP 200 with a body that is not JSON");
    expect(fileRequests().filter((r) => r.hash === hash)).toHaveLength(1);
  });

  it("drops a queue job whose payload does not parse after one try, saying so once", async () => {
    await stack.t.sql`select graphile_worker.add_job('lookup', ${stack.t.sql.json({ hash: "not-a-hash" })}::json, max_attempts := 5)`;
    await waitFor("the job to leave the queue", async () => (await stack.t.sql`select id from graphile_worker._private_jobs`).length === 0);
    expect(stack.worker.lines.filter((line) => line.includes("unusable payload"))).toHaveLength(1);
  });

  it("fails the tasks of a hash whose queued lookup does not parse, rather than leaving them waiting", async () => {
    const hash = "0bad" + "7c".repeat(14);
    // A queued lookup for the hash whose payload we cannot read (written by hand: our code never writes one), held
    // back until the job that needs it exists and keeps it.
    await stack.t.sql`
      select graphile_worker.add_job('lookup', ${stack.t.sql.json({ hash, attempt: "x" })}::json, job_key := ${`lookup:${hash}`},
        run_at := now() + interval '1 hour', max_attempts := 5)`;
    const job = await createJob(stack.t.db, { hashes: [hash] }, { cache: { ttlHours: 24, sources: [] }, lookupMaxAttempts: 5 });
    expect(job.queued).toBe(1);
    await stack.t.sql`update graphile_worker._private_jobs set run_at = now() where key = ${`lookup:${hash}`}`;
    const [task] = await waitFor("the task to fail", async () => {
      const rows = await stack.t.sql<{ status: string; error: string | null }[]>`select status, error from tasks where job_id = ${job.id}`;
      return rows[0]?.status === "failed" ? rows : undefined;
    });
    expect(task.error).toBe("internal error: the queued lookup was unreadable");
    await waitFor("the job to leave the queue", async () => (await stack.t.sql`select id from graphile_worker._private_jobs`).length === 0);
  });

  it("writes one structured log line per lookup, without the API key", () => {
    const lookups = stack.worker.lines.filter((line) => line.includes('"event":"lookup"')).map((line) => JSON.parse(line));
    expect(lookups.length).toBeGreaterThan(20);
    for (const entry of lookups) {
      expect(entry).toEqual(expect.objectContaining({ hash: expect.any(String), outcome: expect.any(String), ms: expect.any(Number) }));
      expect(typeof entry.fromCache).toBe("boolean");
    }
    expect(stack.worker.lines.join("\n")).not.toContain("x-apikey");
  });
});

/** A 32-hex hash with a given prefix whose simulated outcome passes `accept`. */
function findHash(prefix: string, accept: (hash: string) => boolean): string {
  for (let i = 0; ; i++) {
    const hash = prefix + i.toString(16).padStart(32 - prefix.length, "0");
    if (accept(hash)) return hash;
  }
}
