// The home page before a submit: a dropped or pasted list is counted in the browser, and this browser's own jobs
// are listed under the form.
import fs from "node:fs";
import { expect, test, type Page } from "@playwright/test";
import type { CreateJobResponse } from "../../lib/jobs/api-schema";

const MIXED = "tests/e2e/fixtures/mixed.txt";
const REPORT_URL = /\/jobs\/[A-Za-z0-9_-]{22}$/;
const RECENT_JOBS_KEY = "hashscan.recentJobs";

/** Drops a file on the form the way a browser does: dragover, then drop, carrying a DataTransfer. */
async function dropFile(page: Page, name: string, content: string) {
  const dataTransfer = await page.evaluateHandle(
    ({ name, content }) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([content], name, { type: "text/plain" }));
      return transfer;
    },
    { name, content },
  );
  const zone = page.getByTestId("drop-zone");
  await zone.dispatchEvent("dragenter", { dataTransfer });
  await zone.dispatchEvent("dragover", { dataTransfer });
  await expect(zone).toHaveAttribute("data-dragging", "true");
  await zone.dispatchEvent("drop", { dataTransfer });
}

test("a dropped file is counted, becomes the form's file, and is what gets submitted", async ({ page }) => {
  await page.goto("/");
  await dropFile(page, "mixed.txt", fs.readFileSync(MIXED, "utf8"));

  await expect(page.getByTestId("drop-zone")).not.toHaveAttribute("data-dragging");
  await expect(page.getByTestId("chosen-file")).toContainText("mixed.txt");
  await expect(page.getByTestId("preview")).toHaveText(
    /In mixed\.txt: 7 distinct hashes \(7 MD5, 0 SHA-1, 0 SHA-256\), 1 duplicate, 2 lines without a hash\./,
  );
  await expect(page.getByTestId("preview").getByRole("list", { name: "Lines without a hash" })).toContainText(
    "Line 6: not a hash at all — no MD5, SHA-1 or SHA-256 found",
  );
  expect(await page.locator("#file").evaluate((input: HTMLInputElement) => input.files?.[0]?.name)).toBe("mixed.txt");

  await page.getByRole("button", { name: "Look up hashes" }).click();
  await expect(page).toHaveURL(REPORT_URL);
  // The report counts what the dropped file held, so the server received that file.
  await expect(page.getByText(/7 distinct hashes · 1 duplicate dropped · 2 lines without a hash/)).toBeVisible();
});

test("pasted text is counted by type, with duplicates and lines without a hash", async ({ page }) => {
  const md5 = "119aef5280f0d609dc5b30d454c1b94c";
  const text = [
    "# a header comment is skipped",
    md5,
    "82123011556b0e68801bee7bd71bb345",
    "15e43dbe5259192a9d6b89d1c1e3e99ac9e86880",
    `sample.exe,${"0001a1252300b4732e4a010a5dd13a291dcb8b0ebee6febedb5152dfb0bcd488"}`,
    md5.toUpperCase(),
    "nothing to see",
    "ab".repeat(64),
  ].join("\n");

  await page.goto("/");
  await expect(page.getByTestId("preview")).toHaveCount(0);
  await page.getByRole("textbox", { name: "Or paste hashes" }).fill(text);
  const preview = page.getByTestId("preview");
  await expect(preview).toContainText(
    "In the pasted text: 4 distinct hashes (2 MD5, 1 SHA-1, 1 SHA-256), 1 duplicate, 2 lines without a hash.",
  );
  await expect(preview).toContainText("Line 8:");
  await expect(preview).toContainText("SHA-512 is not supported");

  // A file as well: the form says only one can be sent, until the file is removed again.
  await page.getByLabel("Choose a file of hashes").setInputFiles(MIXED);
  await expect(preview).toContainText("In mixed.txt: 7 distinct hashes");
  await expect(preview).toContainText("only one can be sent");
  await page.getByRole("button", { name: "Remove file" }).click();
  await expect(preview).toContainText("In the pasted text: 4 distinct hashes");
  await expect(preview).not.toContainText("only one can be sent");
  expect(await page.locator("#file").evaluate((input: HTMLInputElement) => input.files?.length)).toBe(0);
});

test("every control has a name and the form works from the keyboard", async ({ page }) => {
  await page.goto("/");
  await page.getByRole("textbox", { name: "Or paste hashes" }).focus();
  await page.keyboard.type("119aef5280f0d609dc5b30d454c1b94c");
  await page.keyboard.press("Tab");
  await expect(page.getByRole("textbox", { name: "Name (optional)" })).toBeFocused();
  await page.keyboard.type("Typed list");
  await page.keyboard.press("Tab");
  await expect(page.getByRole("button", { name: "Look up hashes" })).toBeFocused();
  // The file input is visually hidden behind its label, but stays in the tab order with a visible ring.
  await page.keyboard.press("Shift+Tab");
  await page.keyboard.press("Shift+Tab");
  await page.keyboard.press("Shift+Tab");
  await expect(page.getByLabel("Choose a file of hashes")).toBeFocused();
  const ring = await page.locator("label[for=file]").evaluate((label) => getComputedStyle(label).outlineStyle);
  expect(ring).toBe("solid");

  await page.getByRole("button", { name: "Look up hashes" }).press("Enter");
  await expect(page).toHaveURL(REPORT_URL);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Typed list");
});

test.describe("recent jobs in this browser", () => {
  test.use({ timezoneId: "Europe/Berlin" });

  test("are listed with their name, time and size, open their report, and can be removed", async ({ page, request }) => {
    const created = await request.post("/api/jobs", {
      data: { hashes: ["119aef5280f0d609dc5b30d454c1b94c"], name: "Seeded job" },
    });
    expect(created.status()).toBe(201);
    const { id } = (await created.json()) as CreateJobResponse;
    const jobs = [
      { id, name: "Seeded job", createdAt: "2025-01-02T03:04:05.000Z", total: 1 },
      { id: "AAAAAAAAAAAAAAAAAAAAAA", name: null, createdAt: "2025-07-01T12:00:00.000Z", total: 2500 },
    ];

    await page.goto("/");
    await expect(page.getByTestId("recent-jobs")).toHaveCount(0);
    await page.evaluate(([key, value]) => localStorage.setItem(key, value), [RECENT_JOBS_KEY, JSON.stringify(jobs)]);
    await page.reload();

    const items = page.getByTestId("recent-job");
    await expect(page.getByRole("heading", { name: "Recent jobs in this browser" })).toBeVisible();
    await expect(items).toHaveCount(2);
    await expect(items.nth(0)).toContainText("Seeded job");
    await expect(items.nth(0)).toContainText("1 hash");
    // Shown in the viewer's zone, with UTC in the tooltip.
    const time = items.nth(0).locator("time");
    await expect(time).toHaveText("2025-01-02 04:04 GMT+1");
    await expect(time).toHaveAttribute("title", "2025-01-02 03:04 UTC");
    await expect(time).toHaveAttribute("datetime", jobs[0].createdAt);
    await expect(items.nth(1)).toContainText("Untitled");
    await expect(items.nth(1)).toContainText("2,500 hashes");

    await items.nth(0).getByRole("link", { name: "Seeded job" }).click();
    await expect(page).toHaveURL(new RegExp(`/jobs/${id}$`));
    await page.goBack();

    await page.getByRole("button", { name: "Remove Untitled from this list" }).click();
    await expect(items).toHaveCount(1);
    await page.reload();
    await expect(items).toHaveCount(1);
    await page.getByRole("button", { name: "Remove Seeded job from this list" }).click();
    await expect(page.getByTestId("recent-jobs")).toHaveCount(0);
    expect(await page.evaluate((key) => JSON.parse(localStorage.getItem(key) ?? "null"), RECENT_JOBS_KEY)).toEqual([]);
  });

  test("follow changes made in another tab, and ignore unreadable storage", async ({ page, context }) => {
    await page.goto("/");
    await page.evaluate((key) => localStorage.setItem(key, "{not json"), RECENT_JOBS_KEY);
    await page.reload();
    await expect(page.getByRole("heading", { name: "Look up file hashes on VirusTotal" })).toBeVisible();
    await expect(page.getByTestId("recent-jobs")).toHaveCount(0);

    const other = await context.newPage();
    await other.goto("/");
    const job = { id: "BBBBBBBBBBBBBBBBBBBBBB", name: "From another tab", createdAt: "2025-03-01T10:00:00.000Z", total: 3 };
    await other.evaluate(([key, value]) => localStorage.setItem(key, value), [RECENT_JOBS_KEY, JSON.stringify([job])]);
    await expect(page.getByTestId("recent-job")).toHaveText(/From another tab/);
    await other.close();
  });
});

test("the home page fits a phone's width", async ({ page }) => {
  await page.setViewportSize({ width: 375, height: 812 });
  await page.goto("/");
  await page.getByRole("textbox", { name: "Or paste hashes" }).fill(`${"ab".repeat(64)}\n${"c".repeat(300)}`);
  await expect(page.getByTestId("preview")).toBeVisible();
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
});
