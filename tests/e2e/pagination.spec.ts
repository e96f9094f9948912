// A large report is served a page at a time: the first paint holds one page, and the pager walks the rest.
import { expect, test } from "@playwright/test";
import type { CreateJobResponse } from "../../lib/jobs/api-schema";

test("a 250-hash report shows 100 rows a page and pages through all of them", async ({ page, request }) => {
  const hashes = Array.from({ length: 250 }, (_, i) => `e2e1${i.toString(16).padStart(60, "0")}`);
  const created = await request.post("/api/jobs", { data: { hashes, name: "paged" } });
  expect(created.status()).toBe(201);
  const job = (await created.json()) as CreateJobResponse;

  // The server-rendered HTML itself holds one page, not the whole job.
  const html = await (await request.get(`/jobs/${job.id}`)).text();
  expect(new Set(html.match(/e2e1[0-9a-f]{60}/g)).size).toBe(100);
  expect(html).toContain(hashes[99]);
  expect(html).not.toContain(hashes[100]);

  await page.goto(`/jobs/${job.id}`);
  const rows = page.getByTestId("results").locator("tbody tr");
  await expect(rows).toHaveCount(100);
  await expect(page.getByText("Rows 1–100 of 250")).toBeVisible();
  await page.getByRole("button", { name: "Next →" }).click();
  await expect(page.getByText("Rows 101–200 of 250")).toBeVisible();
  await expect(rows.first()).toContainText(hashes[100]);
  await page.getByRole("button", { name: "Next →" }).click();
  await expect(page.getByText("Rows 201–250 of 250")).toBeVisible();
  await expect(rows).toHaveCount(50);
  await expect(page.getByRole("button", { name: "Next →" })).toBeDisabled();
  await page.getByRole("button", { name: "← Previous" }).click();
  await expect(page.getByText("Rows 101–200 of 250")).toBeVisible();
});
