// The JSON API as a script uses it: POST a plain-text list, then poll the status URL it hands back.
import { randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";
import { expect, test } from "@playwright/test";
import postgres from "postgres";
import type { CreateJobResponse, JobReport } from "../../lib/jobs/api-schema";
import { E2E_BASE_URL } from "./settings";

test("a plain-text POST creates a job whose status URL reaches completed", async ({ request }) => {
  // A hash no earlier run has seen, so a lookup really happens rather than a cache hit; the `e2e0` prefix keeps
  // it clear of the simulator's special prefixes (dead, 5030, 503d, bad0).
  const fresh = `e2e0${randomBytes(14).toString("hex")}`;
  const body = [
    "# two fixture files by SHA-1, and a fresh MD5",
    "15e43dbe5259192a9d6b89d1c1e3e99ac9e86880",
    "b7162dfcbcac2724c71c03385abe577e1ab0cd8d",
    fresh,
  ].join("\n");

  const created = await request.post("/api/jobs?name=API%20test", {
    headers: { "content-type": "text/plain" },
    data: body,
  });
  expect(created.status()).toBe(201);
  const job = (await created.json()) as CreateJobResponse;
  expect(job.url).toBe(`${E2E_BASE_URL}/jobs/${job.id}`);
  expect(job.statusUrl).toBe(`${E2E_BASE_URL}/api/jobs/${job.id}`);
  expect(job.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
  expect(created.headers().location).toBe(job.url);
  expect(job).toMatchObject({ accepted: 3, duplicates: 0, invalidCount: 0 });

  let report: JobReport | undefined;
  await expect
    .poll(
      async () => {
        const response = await request.get(job.statusUrl);
        expect(response.status()).toBe(200);
        report = (await response.json()) as JobReport;
        return report.status;
      },
      { timeout: 45_000, intervals: [250, 500, 1000] },
    )
    .toBe("completed");
  expect(report?.name).toBe("API test");
  expect(report?.counts).toMatchObject({ total: 3, pending: 0, failed: 0 });
  expect(report?.results.map((result) => result.hash)).toContain(fresh);
});

test("every response carries the security headers; reports are kept out of search engines", async ({ request }) => {
  const created = await request.post("/api/jobs", { data: { hashes: [`e2e9${randomBytes(14).toString("hex")}`] } });
  const job = (await created.json()) as CreateJobResponse;
  for (const path of ["/", `/jobs/${job.id}`, `/api/jobs/${job.id}`, "/api/status", "/queue"]) {
    const headers = (await request.get(path)).headers();
    expect(headers["content-security-policy"], path).toContain("frame-ancestors 'none'");
    expect(headers["content-security-policy"], path).toContain("default-src 'self'");
    expect(headers["x-frame-options"], path).toBe("DENY");
    expect(headers["x-content-type-options"], path).toBe("nosniff");
    expect(headers["referrer-policy"], path).toBe("no-referrer");
    expect(headers["x-powered-by"], path).toBeUndefined();
    expect(headers["x-robots-tag"], path).toBe(path.includes("jobs/") ? "noindex, nofollow" : undefined);
  }
  const status = await (await request.get("/api/status")).json();
  expect(JSON.stringify(status.workers)).not.toMatch(/hostname|"pid"/);
});

test("a job created through the form hands this browser its manage token, and nobody else", async ({ page }) => {
  await page.goto("/");
  await page.locator("#text").fill(`e2ea${randomBytes(14).toString("hex")}`);
  await page.getByRole("button", { name: "Look up hashes" }).click();
  await expect(page).toHaveURL(/\/jobs\/[\w-]{22}$/);
  const id = page.url().split("/").pop()!;
  const stored = await page.evaluate(() => JSON.parse(localStorage.getItem("hashscan.manageTokens") ?? "{}"));
  expect(stored[id]).toMatch(/^[\w-]{43}$/);
  // It travelled in no address: not in this page's, nor in the history the browser keeps.
  expect(page.url()).not.toContain(stored[id]);
  // The token it holds is the one the API accepts.
  const retried = await page.request.post(`/api/jobs/${id}/retry`, { headers: { "x-manage-token": stored[id] } });
  expect(retried.status()).toBe(200);
  expect((await page.request.post(`/api/jobs/${id}/retry`)).status()).toBe(403);
});

test("a gzip body reaches the route through the real server, decompressed by us", async ({ request }) => {
  const hashes = Array.from({ length: 3 }, () => `e2eb${randomBytes(14).toString("hex")}`);
  const created = await request.post("/api/jobs", {
    headers: { "content-type": "text/plain", "content-encoding": "gzip" },
    data: gzipSync(hashes.join("\n")),
  });
  expect(created.status()).toBe(201);
  expect(await created.json()).toMatchObject({ accepted: 3 });
});

test("a job is counted against the address the web server saw, not one the client wrote in a header", async ({ request }) => {
  const created = await request.post("/api/jobs", {
    headers: { "content-type": "text/plain", "x-forwarded-for": "203.0.113.7", "x-hashscan-client-address": "203.0.113.8" },
    data: `e2e1${randomBytes(14).toString("hex")}`,
  });
  expect(created.status()).toBe(201);
  const { id } = (await created.json()) as CreateJobResponse;
  const sql = postgres(process.env.E2E_DATABASE_URL!, { max: 1 });
  try {
    const [job] = await sql<{ client_id: string }[]>`select client_id from jobs where id = ${id}`;
    // localhost: IPv4's loopback, or IPv6's (by its /64).
    expect(job.client_id).toMatch(/^address:(127\.0\.0\.1|0:0:0:0::\/64)$/);
  } finally {
    await sql.end();
  }
});
