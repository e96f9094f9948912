// Per-client limits (CLIENT_JOBS_PER_HOUR, CLIENT_HASHES_PER_DAY) through the real route and form, counted in Postgres.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST } from "../../app/api/jobs/route";
import { CLIENT_ADDRESS_HEADER } from "../../lib/access/client";
import { submitForm } from "../../lib/jobs/submit-form";
import { createTestDatabase, type TestDatabase } from "./helpers/test-database";

let t: TestDatabase;
const saved = { ...process.env };
beforeAll(async () => {
  t = await createTestDatabase("client_limits");
  process.env.DATABASE_URL = t.url;
  // Read by env() on first use in this file's fresh module graph.
  process.env.CLIENT_JOBS_PER_HOUR = "3";
  process.env.CLIENT_HASHES_PER_DAY = "10";
});
afterAll(async () => {
  for (const name of ["CLIENT_JOBS_PER_HOUR", "CLIENT_HASHES_PER_DAY"]) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
  await t?.drop();
});

/** `n` distinct MD5s, different for every call. */
let serial = 0;
const hashes = (n: number) => Array.from({ length: n }, () => (serial++).toString(16).padStart(32, "a")).join("\n");

const submit = (address: string, n = 1, headers: Record<string, string> = {}) =>
  POST(
    new Request("http://hashscan.test/api/jobs", {
      method: "POST",
      body: hashes(n),
      headers: { "content-type": "text/plain", [CLIENT_ADDRESS_HEADER]: address, ...headers },
    }),
  );
const jobsOf = async (address: string) =>
  (await t.sql<{ n: number }[]>`select count(*)::int as n from jobs where client_id = ${`address:${address}`}`)[0].n;

describe("per-client limits", () => {
  it("refuses a client's fourth job in an hour with 429 and when to try again; other clients go on", async () => {
    for (let i = 0; i < 3; i++) expect((await submit("198.51.100.1")).status).toBe(201);
    const refused = await submit("198.51.100.1");
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(3500);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect((await refused.json()).error).toEqual({
      code: "rate_limited",
      message: expect.stringMatching(/3 jobs in the last hour.*CLIENT_JOBS_PER_HOUR.*try again in 60 minutes/),
    });
    expect(await jobsOf("198.51.100.1")).toBe(3);
    // Another address is another client; a spoofed X-Forwarded-For changes nothing (scripts/web.ts ignores it).
    expect((await submit("198.51.100.2")).status).toBe(201);
    expect((await submit("198.51.100.1", 1, { "x-forwarded-for": "203.0.113.50" })).status).toBe(429);

    // The oldest job leaving the window makes room: Retry-After counts down to it.
    await t.sql`update jobs set created_at = created_at - interval '59 minutes 30 seconds'
      where id = (select id from jobs where client_id = 'address:198.51.100.1' order by created_at limit 1)`;
    const soon = await submit("198.51.100.1");
    expect(Number(soon.headers.get("retry-after"))).toBeLessThanOrEqual(31);
    await t.sql`update jobs set created_at = created_at - interval '31 seconds'
      where id = (select id from jobs where client_id = 'address:198.51.100.1' order by created_at limit 1)`;
    expect((await submit("198.51.100.1")).status).toBe(201);
  });

  it("counts hashes over 24 hours, and refuses a job that alone is past the day's allowance", async () => {
    expect((await submit("198.51.100.3", 6)).status).toBe(201);
    const refused = await submit("198.51.100.3", 5);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(86_000);
    expect((await refused.json()).error.message).toMatch(/6 hashes in the last 24 hours; 5 more would pass the 10 allowed \(CLIENT_HASHES_PER_DAY\)/);
    expect((await submit("198.51.100.3", 4)).status).toBe(201);

    const tooBig = await submit("198.51.100.4", 11);
    expect(tooBig.status).toBe(413);
    expect((await tooBig.json()).error.message).toMatch(/11 hashes, more than one client may submit in 24 hours/);
    expect(await jobsOf("198.51.100.4")).toBe(0);
  });

  it("lets no more than the limit through when a client's submissions race", async () => {
    const answers = await Promise.all(Array.from({ length: 8 }, () => submit("198.51.100.5")));
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses).toEqual([201, 201, 201, 429, 429, 429, 429, 429]);
    expect(await jobsOf("198.51.100.5")).toBe(3);
  });

  it("counts a client by its API token where API_TOKENS is set, whatever its address", async () => {
    // This file's env() is parsed already: API_TOKENS is off here. An unchecked bearer token must not name a
    // client, or anyone could step out of their address's limits by sending a new one each time.
    for (let i = 0; i < 3; i++) {
      expect((await submit("198.51.100.6", 1, { authorization: `Bearer made-up-token-${i}-0123456789` })).status).toBe(201);
    }
    expect((await submit("198.51.100.6", 1, { authorization: "Bearer made-up-token-9-0123456789" })).status).toBe(429);
  });

  it("answers the form with the same limits, as a message", async () => {
    const form = new FormData();
    form.append("text", hashes(1));
    const headers = new Headers({ [CLIENT_ADDRESS_HEADER]: "198.51.100.1" });
    expect(await submitForm(form, headers)).toEqual({
      ok: false,
      error: expect.stringMatching(/in the last hour.*try again in \d+ minutes/),
    });
  });
});
