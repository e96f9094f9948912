// The JSON API as a script uses it: POST a plain-text list, then poll the status URL it hands back.
import { randomBytes } from "node:crypto";
import { expect, test } from "@playwright/test";
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
