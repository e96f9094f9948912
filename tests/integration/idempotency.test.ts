// POST /api/jobs with an Idempotency-Key, through the real route and a real database: a request sent again gets its
// job again, two at once make one job, another body under the key is a 409, and keys are per client.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST } from "../../app/api/jobs/route";
import { CLIENT_ADDRESS_HEADER } from "../../lib/access/client";
import { deleteStaleKeys } from "../../lib/db/queries/idempotency";
import { createJob } from "../../lib/jobs/create";
import { createTestDatabase, type TestDatabase } from "./helpers/test-database";

let t: TestDatabase;
const saved = { ...process.env };
beforeAll(async () => {
  t = await createTestDatabase("idempotency");
  process.env.DATABASE_URL = t.url;
  process.env.CLIENT_JOBS_PER_HOUR = "5";
});
afterAll(async () => {
  if (saved.CLIENT_JOBS_PER_HOUR === undefined) delete process.env.CLIENT_JOBS_PER_HOUR;
  else process.env.CLIENT_JOBS_PER_HOUR = saved.CLIENT_JOBS_PER_HOUR;
  await t?.drop();
});

let serial = 0;
const hashes = (n: number) => Array.from({ length: n }, () => `c${(serial++).toString(16).padStart(31, "0")}`).join("\n");

function submit(body: BodyInit, options: { key?: string; address?: string; type?: string; query?: string } = {}) {
  const headers: Record<string, string> = { [CLIENT_ADDRESS_HEADER]: options.address ?? "203.0.113.5" };
  if (options.type !== "multipart") headers["content-type"] = options.type ?? "text/plain";
  if (options.key !== undefined) headers["idempotency-key"] = options.key;
  return POST(new Request(`http://hashscan.test/api/jobs${options.query ?? ""}`, { method: "POST", body, headers }));
}

const jobCount = async () => (await t.sql<{ n: number }[]>`select count(*)::int as n from jobs`)[0].n;
const taskCount = async (id: string) => (await t.sql<{ n: number }[]>`select count(*)::int as n from tasks where job_id = ${id}`)[0].n;

describe("Idempotency-Key", () => {
  it("answers a request sent again with the same status and body, and creates nothing more", async () => {
    const list = `${hashes(3)}\nnot a hash\n`;
    const first = await submit(list, { key: "retry-1", query: "?name=triage" });
    expect(first.status).toBe(201);
    const body = await first.json();
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    const before = await jobCount();

    const again = await submit(list, { key: "retry-1", query: "?name=triage" });
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.headers.get("location")).toBe(body.url);
    expect(await again.json()).toEqual(body); // manageToken, invalid lines and counts included
    expect(await jobCount()).toBe(before);
    expect(await taskCount(body.id)).toBe(3);
  });

  it("makes one job of two identical requests sent at once", async () => {
    const list = hashes(500);
    const [a, b] = await Promise.all([submit(list, { key: "at-once" }), submit(list, { key: "at-once" })]);
    expect([a.status, b.status]).toEqual([201, 201]);
    const [bodyA, bodyB] = [await a.json(), await b.json()];
    expect(bodyB).toEqual(bodyA);
    expect([a.headers.get("idempotent-replayed"), b.headers.get("idempotent-replayed")].sort()).toEqual(["true", null].sort());
    const rows = await t.sql`select id from jobs where id = ${bodyA.id}`;
    expect(rows).toHaveLength(1);
    expect(await taskCount(bodyA.id)).toBe(500);
    const keyed = await t.sql`select job_id from idempotency_keys where key = 'at-once'`;
    expect(keyed).toEqual([{ job_id: bodyA.id }]);
  });

  it("refuses another list or another name under a key already used: 409, nothing written", async () => {
    const list = hashes(2);
    const first = await (await submit(list, { key: "used", query: "?name=a" })).json();
    const before = await jobCount();
    for (const response of [await submit(hashes(2), { key: "used", query: "?name=a" }), await submit(list, { key: "used", query: "?name=b" })]) {
      expect(response.status).toBe(409);
      expect((await response.json()).error).toEqual({ code: "conflict", message: expect.stringMatching(/Idempotency-Key.*another request/) });
    }
    expect(await jobCount()).toBe(before);
    // The key still answers its own request.
    expect((await (await submit(list, { key: "used", query: "?name=a" })).json()).id).toBe(first.id);
  });

  it("keeps keys per client: the same key from two clients makes two jobs", async () => {
    const list = hashes(2);
    const a = await (await submit(list, { key: "shared-key", address: "198.51.100.10" })).json();
    const b = await submit(list, { key: "shared-key", address: "198.51.100.11" });
    expect(b.status).toBe(201);
    expect(b.headers.get("idempotent-replayed")).toBeNull();
    expect((await b.json()).id).not.toBe(a.id);
    // A different list from the second client under that key is its own business, a conflict with its own job.
    expect((await submit(hashes(1), { key: "shared-key", address: "198.51.100.11" })).status).toBe(409);
  });

  it("knows a multipart upload by its file and name, not by its boundary", async () => {
    const list = hashes(2);
    const form = (name: string) => {
      const data = new FormData();
      data.append("file", new Blob([list], { type: "text/plain" }), "iocs.txt");
      data.append("name", name);
      return data;
    };
    const first = await (await submit(form("m"), { key: "multi", type: "multipart" })).json();
    const again = await submit(form("m"), { key: "multi", type: "multipart" });
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect((await again.json()).id).toBe(first.id);
    expect((await submit(form("other"), { key: "multi", type: "multipart" })).status).toBe(409);
  });

  it("knows a JSON body from the same bytes sent as text: another request (another job's rows), 409", async () => {
    // As text, these bytes are two hashes and two lines without one; as JSON, two hashes named "n".
    const [a, b] = hashes(2).split("\n");
    const bytes = `{"hashes": [\n"${a}",\n"${b}"],\n"name": "n"}`;
    const address = "198.51.100.40";
    const json = await submit(bytes, { key: "kind", address, type: "application/json" });
    expect(json.status).toBe(201);
    expect((await json.json()).invalidCount).toBe(0);
    const text = await submit(bytes, { key: "kind", address, query: "?name=n" });
    expect(text.status).toBe(409);
    // Each still answers its own under a key of its own.
    expect((await (await submit(bytes, { key: "kind-text", address, query: "?name=n" })).json()).invalidCount).toBe(2);
  });

  it("keeps no key of a creation that failed after the key was written: the same key then creates the job", async () => {
    const client = { id: "address:198.51.100.50", limits: { jobsPerHour: 0, hashesPerDay: 0 } };
    const base = { cache: { ttlHours: 24, sources: ["simulator" as const] }, lookupMaxAttempts: 5, client };
    const idempotency = { key: "failing", requestDigest: "d".repeat(64) };
    const failing = createJob(t.db, { text: hashes(3) }, { ...base, idempotency, beforeEnqueue: () => Promise.reject(new Error("COPY went wrong")) });
    await expect(failing).rejects.toThrow("COPY went wrong");
    expect(await t.sql`select 1 from idempotency_keys where key = 'failing'`).toHaveLength(0);
    const created = await createJob(t.db, { text: hashes(3) }, { ...base, idempotency });
    expect(created.replayed).toBe(false);
    expect(await t.sql`select job_id from idempotency_keys where key = 'failing'`).toEqual([{ job_id: created.id }]);
  });

  it("finds a job's keys by index when retention deletes the job (its cascade scanned every key: 12 ms a job at 100,000 keys)", async () => {
    const indexed = await t.sql`
      select 1 from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
      where i.indrelid = 'idempotency_keys'::regclass and a.attname = 'job_id'`;
    expect(indexed).toHaveLength(1);
  });

  it("answers a replay to a client past its job limit, which a new request is refused", async () => {
    const address = "198.51.100.20";
    const list = hashes(1);
    const first = await (await submit(list, { key: "k0", address })).json();
    for (let i = 1; i < 5; i++) expect((await submit(hashes(1), { address })).status).toBe(201);
    expect((await submit(hashes(1), { address, key: "new" })).status).toBe(429);
    const again = await submit(list, { key: "k0", address });
    expect(again.status).toBe(201);
    expect((await again.json()).id).toBe(first.id);
  });

  it("refuses a malformed key with 400, and a key past its day creates a new job", async () => {
    for (const key of ["", "has space", "é", "x".repeat(256)]) {
      const response = await submit(hashes(1), { key });
      expect(response.status).toBe(400);
      expect((await response.json()).error.message).toMatch(/Idempotency-Key/);
    }
    const list = hashes(1);
    const address = "198.51.100.30";
    const first = await (await submit(list, { key: "old", address })).json();
    await t.sql`update idempotency_keys set created_at = now() - interval '25 hours' where key = 'old'`;
    const second = await submit(list, { key: "old", address });
    expect(second.headers.get("idempotent-replayed")).toBeNull();
    const secondId = (await second.json()).id;
    expect(secondId).not.toBe(first.id);
    expect(await t.sql`select job_id from idempotency_keys where key = 'old'`).toEqual([{ job_id: secondId }]);
    // Retention deletes only keys past their day.
    await t.sql`update idempotency_keys set created_at = now() - interval '25 hours' where key = 'old'`;
    expect(await deleteStaleKeys(t.db, 100)).toBe(1);
    expect((await t.sql`select count(*)::int as n from idempotency_keys`)[0].n).toBeGreaterThan(0);
  });
});
