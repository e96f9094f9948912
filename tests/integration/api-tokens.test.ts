// A shared deployment with API_TOKENS: creating and managing need a bearer token; reading a report never does.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST } from "../../app/api/jobs/route";
import { GET } from "../../app/api/jobs/[id]/route";
import { POST as CANCEL } from "../../app/api/jobs/[id]/cancel/route";
import { submitForm } from "../../lib/jobs/submit-form";
import { createTestDatabase, type TestDatabase } from "./helpers/test-database";

const TOKEN = "team-token-0123456789abcdef";
let t: TestDatabase;
const saved = process.env.API_TOKENS;
beforeAll(async () => {
  t = await createTestDatabase("api_tokens");
  process.env.DATABASE_URL = t.url;
  // Read by env() on first use in this file's fresh module graph.
  process.env.API_TOKENS = ` other-token-abcdefghijklmnop , ${TOKEN} `;
});
afterAll(async () => {
  if (saved === undefined) delete process.env.API_TOKENS;
  else process.env.API_TOKENS = saved;
  await t?.drop();
});

const BASE = "http://hashscan.test";
const create = (headers: Record<string, string>) =>
  POST(new Request(`${BASE}/api/jobs`, { method: "POST", body: "0496f4962d3dce3caa849f605749f7f2", headers: { "content-type": "text/plain", ...headers } }));

describe("API_TOKENS", () => {
  it("asks for a bearer token to create a job, and takes any configured one", async () => {
    const before = (await t.sql`select count(*)::int as n from jobs`)[0].n;
    for (const headers of [{}, { authorization: "Bearer wrong-token-0123456789" }, { authorization: `Basic ${TOKEN}` }, { authorization: `Bearer ${TOKEN}x` }]) {
      const response = await create(headers as Record<string, string>);
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect((await response.json()).error.code).toBe("unauthorized");
    }
    expect((await t.sql`select count(*)::int as n from jobs`)[0].n).toBe(before);
    expect((await create({ authorization: `Bearer ${TOKEN}` })).status).toBe(201);
    expect((await create({ authorization: "bearer other-token-abcdefghijklmnop" })).status).toBe(201);
  });

  it("asks for both the bearer token and the manage token to cancel; a report is read with neither", async () => {
    const job = await (await create({ authorization: `Bearer ${TOKEN}` })).json();
    const cancel = (headers: Record<string, string>) =>
      CANCEL(new Request(`${BASE}/api/jobs/${job.id}/cancel`, { method: "POST", headers }), { params: Promise.resolve({ id: job.id }) });
    expect((await cancel({ "x-manage-token": job.manageToken })).status).toBe(401);
    expect((await cancel({ authorization: `Bearer ${TOKEN}` })).status).toBe(403);
    expect((await cancel({ authorization: `Bearer ${TOKEN}`, "x-manage-token": job.manageToken })).status).toBe(200);
    const read = await GET(new Request(`${BASE}/api/jobs/${job.id}`), { params: Promise.resolve({ id: job.id }) });
    expect(read.status).toBe(200);
  });
});

describe("the form with API_TOKENS", () => {
  const form = (fields: Record<string, string>) => {
    const data = new FormData();
    for (const [key, value] of Object.entries(fields)) data.append(key, value);
    return data;
  };

  it("refuses a submission without the browser's token, and redirects with one", async () => {
    const text = "0496f4962d3dce3caa849f605749f7f2";
    expect(await submitForm(form({ text }), new Headers())).toEqual({ ok: false, error: expect.stringContaining("needs an API token") });
    expect(await submitForm(form({ text, apiToken: "nope-nope-nope-nope" }), new Headers())).toEqual({ ok: false, error: "This API token is not valid here." });
    expect(await submitForm(form({ text, apiToken: TOKEN }), new Headers())).toEqual({
      ok: true,
      id: expect.stringMatching(/^[\w-]{22}$/),
      manageToken: expect.stringMatching(/^[\w-]{43}$/),
    });
  });
});
