// From the home page to a finished report: a file upload, then a pasted list with comments, repeats and noise.
import fs from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { readResults, waitForComplete } from "./report-page";

const EXAMPLE_MD5 = "tests/fixtures/samples/example-md5.txt";
const MIXED = "tests/e2e/fixtures/mixed.txt";
const REPORT_URL = /\/jobs\/[A-Za-z0-9_-]{22}$/;

test("an uploaded file becomes a report that another browser sees the same", async ({ page, browser }, testInfo) => {
  const submitted = fs.readFileSync(EXAMPLE_MD5, "utf8").split("\n").filter(Boolean);

  await page.goto("/");
  await page.locator("#file").setInputFiles(EXAMPLE_MD5);
  await expect(page.getByTestId("preview")).toContainText("15 distinct hashes (15 MD5");
  await page.getByRole("button", { name: "Look up hashes" }).click();

  await expect(page).toHaveURL(REPORT_URL);
  await expect(page.getByText("Simulated results.")).toBeVisible();
  await waitForComplete(page);
  const counts = page.getByTestId("counts");
  await expect(counts.getByText("0 pending", { exact: true })).toBeVisible();
  await expect(counts.getByText("0 failed", { exact: true })).toBeVisible();

  const rows = await readResults(page);
  expect(rows.map((row) => row.hash).sort()).toEqual([...submitted].sort());
  for (const row of rows) expect(["Completed", "Not found"], `status of ${row.hash}`).toContain(row.status);
  expect(rows.some((row) => /^\d+ \/ \d+$/.test(row.engines))).toBe(true);
  await page.screenshot({ path: path.join(testInfo.project.outputDir, "e2e-report.png"), fullPage: true });

  // The address is the report: a browser with no cookies or history sees the same rows.
  const stranger = await browser.newContext();
  try {
    const other = await stranger.newPage();
    await other.goto(page.url());
    await waitForComplete(other);
    expect(await readResults(other)).toEqual(rows);
  } finally {
    await stranger.close();
  }
});

test("a pasted list reports its name, repeats and lines without a hash", async ({ page }) => {
  await page.goto("/");
  await page.locator("#text").fill(fs.readFileSync(MIXED, "utf8"));
  await page.locator("#name").fill("E2E mixed list");
  await page.getByRole("button", { name: "Look up hashes" }).click();

  await expect(page).toHaveURL(REPORT_URL);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("E2E mixed list");
  await expect(page.getByText(/7 distinct hashes · 1 duplicate dropped · 2 lines without a hash/)).toBeVisible();

  await expect(page.getByText("2 input lines held no hash")).toBeVisible();
  const invalid = page.getByTestId("invalid-lines").locator("tbody tr");
  await expect(invalid).toHaveCount(2);
  await expect(invalid.nth(0).locator("td")).toHaveText(["6", "not a hash at all", "no MD5, SHA-1 or SHA-256 found"]);
  await expect(invalid.nth(1).locator("td").first()).toHaveText("11");
  await expect(invalid.nth(1).locator("td").last()).toContainText("SHA-512");

  await waitForComplete(page);
  const rows = await readResults(page);
  expect(rows).toHaveLength(7);
  for (const row of rows) expect(row.status, `status of ${row.hash}`).toBe("Completed");
  // tests/fixtures/vt/001015aafcae….json: Fortinet's name, 53 of 62 engines with a verdict, analysed 1586546645.
  expect(rows.find((row) => row.hash === "b214da9f6b0d6e6de5090b3f9672defe")).toEqual({
    hash: "b214da9f6b0d6e6de5090b3f9672defe",
    status: "Completed",
    fortinet: "WM/Moat.81C2F10E!tr",
    engines: "53 / 62",
    scanDate: "2020-04-10 19:24 UTC",
  });
});
