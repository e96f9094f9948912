// The report page's own buttons: cancelling what is still pending, and retrying what failed, as a person clicks them.
import { randomBytes } from "node:crypto";
import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import type { CreateJobResponse, JobReport } from "../../lib/jobs/api-schema";
import { E2E_SIMULATOR_PORT } from "./settings";

// tests/fixtures/vt/001015aafcae….json by MD5: always found, so the job has one row that completes.
const FOUND = "b214da9f6b0d6e6de5090b3f9672defe";
// The simulator's documented answers (lib/virustotal/simulator/README.md), on hashes no earlier run has asked.
// `5030`: 503 every time; each try is a transient failure, retried with backoff 2, 4, 8 … s up to
// LOOKUP_MAX_ATTEMPTS (10, the e2e stack does not change it), so the row stays pending for about 17 minutes.
const unavailableHash = () => `5030${randomBytes(30).toString("hex")}`;
// `bad0`: 200 with a body that is not JSON, a malformed answer, which fails the task at once and every time.
const malformedHash = () => `bad0${randomBytes(14).toString("hex")}`;
const MALFORMED_REASON = "VirusTotal answered HTTP 200 with a body that is not JSON";
const CONFIRM_CANCEL = "Cancel the lookups still pending for this job?";

async function submit(request: APIRequestContext, hashes: string[], name: string): Promise<CreateJobResponse> {
  const created = await request.post("/api/jobs", { data: { hashes, name } });
  expect(created.status()).toBe(201);
  return (await created.json()) as CreateJobResponse;
}

async function getReport(request: APIRequestContext, id: string): Promise<JobReport> {
  const response = await request.get(`/api/jobs/${id}`);
  expect(response.status()).toBe(200);
  return (await response.json()) as JobReport;
}

/** The requests the simulator answered for one hash: each is a lookup the worker really made. */
async function simulatorRequestsFor(request: APIRequestContext, hash: string): Promise<{ at: string; status: number }[]> {
  const response = await request.get(`http://127.0.0.1:${E2E_SIMULATOR_PORT}/_simulator/requests`);
  expect(response.status()).toBe(200);
  const { requests } = (await response.json()) as { requests: { at: string; hash: string | null; status: number }[] };
  return requests.filter((r) => r.hash === hash).map(({ at, status }) => ({ at, status }));
}

const row = (page: Page, hash: string) => page.getByTestId("results").locator("tbody tr", { hasText: hash });
// The badge alone, not the error and retry lines the status cell can hold under it.
const badge = (page: Page, hash: string) => row(page, hash).locator("td").nth(1).locator("span");
const count = (page: Page, text: string) => page.getByTestId("counts").getByText(text, { exact: true });
const cancelButton = (page: Page) => page.getByRole("button", { name: "Cancel pending lookups" });
const retryButton = (page: Page) => page.getByRole("button", { name: /^Retry \d+ failed$/ });

test("Cancel, once confirmed, ends the pending lookup as cancelled on the page and in the API", async ({ page, request }) => {
  const waiting = unavailableHash();
  const job = await submit(request, [FOUND, waiting], "E2E cancel");

  // As the browser that created it: the manage token in the fragment, as the form's redirect hands it over.
  await page.goto(`/jobs/${job.id}#manage=${job.manageToken}`);
  // The lookup has been tried and waits for its next try: pending by the simulator's rule, not by a race.
  await expect(badge(page, FOUND)).toHaveText("Completed");
  await expect(badge(page, waiting)).toHaveText("Pending");
  await expect(row(page, waiting)).toContainText(/temporarily unavailable .*\(attempt \d+ of 10\)/);
  await expect(row(page, waiting)).toContainText("next try");
  await expect(page.getByTestId("job-status")).toHaveText("Running");
  await expect(count(page, "1 pending")).toBeVisible();
  await expect(retryButton(page)).toHaveCount(0);
  // The token left the address once kept: a copied link reads the report, and manages nothing.
  await expect(page).toHaveURL(new RegExp(`/jobs/${job.id}$`));
  const other = await page.context().browser()!.newContext();
  const reader = await other.newPage();
  await reader.goto(page.url());
  await expect(reader.getByTestId("read-only")).toBeVisible();
  await expect(cancelButton(reader)).toHaveCount(0);
  await other.close();

  const cancelPosts: string[] = [];
  page.on("request", (r) => {
    if (r.method() === "POST" && r.url().endsWith(`/api/jobs/${job.id}/cancel`)) cancelPosts.push(r.url());
  });

  // Saying no to the confirmation changes nothing.
  const asked: string[] = [];
  page.once("dialog", (dialog) => {
    asked.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  await cancelButton(page).click();
  await expect.poll(() => asked).toEqual([`confirm: ${CONFIRM_CANCEL}`]);
  await expect(cancelButton(page)).toBeEnabled();
  expect((await getReport(request, job.id)).counts.pending).toBe(1);
  expect(cancelPosts).toEqual([]);

  // Saying yes cancels it.
  page.once("dialog", (dialog) => {
    asked.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.accept();
  });
  const [cancelled] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === "POST" && r.url().endsWith(`/api/jobs/${job.id}/cancel`)),
    cancelButton(page).click(),
  ]);
  expect(asked).toHaveLength(2);
  expect(cancelled.status()).toBe(200);
  expect(await cancelled.json()).toEqual({ cancelled: 1 });
  expect(cancelPosts).toHaveLength(1);

  const showsCancelled = async () => {
    await expect(page.getByTestId("job-status")).toHaveText("Cancelled");
    await expect(count(page, "0 pending")).toBeVisible();
    await expect(count(page, "1 completed")).toBeVisible();
    await expect(count(page, "1 cancelled")).toBeVisible();
    await expect(badge(page, waiting)).toHaveText("Cancelled");
    await expect(badge(page, FOUND)).toHaveText("Completed");
    await expect(row(page, waiting)).not.toContainText("next try");
    // Nothing is left to cancel, and a cancelled job's failures are not retried.
    await expect(cancelButton(page)).toHaveCount(0);
    await expect(retryButton(page)).toHaveCount(0);
  };
  await showsCancelled();

  const report = await getReport(request, job.id);
  expect(report.status).toBe("cancelled");
  expect(report.counts).toEqual({ total: 2, pending: 0, completed: 1, notFound: 0, failed: 0, cancelled: 1 });
  expect(report.estimatedCompletion).toBeNull();
  expect(report.results.map(({ hash, status, retryAt }) => ({ hash, status, retryAt }))).toEqual([
    { hash: FOUND, status: "completed", retryAt: null },
    { hash: waiting, status: "cancelled", retryAt: null },
  ]);

  // The server-rendered page says the same to whoever opens the address next.
  await page.reload();
  await showsCancelled();
});

test("Retry queues a failed lookup again; a malformed answer fails it again with the same reason", async ({ page, request }) => {
  const failing = malformedHash();
  const job = await submit(request, [FOUND, failing], "E2E retry");

  // As the browser that created it: the manage token in the fragment, as the form's redirect hands it over.
  await page.goto(`/jobs/${job.id}#manage=${job.manageToken}`);
  await expect(page.getByTestId("job-status")).toHaveText("Complete");
  await expect(badge(page, failing)).toHaveText("Failed");
  await expect(row(page, failing).locator("td").nth(1).locator("p")).toHaveText([MALFORMED_REASON]);
  await expect(count(page, "1 failed")).toBeVisible();
  await expect(cancelButton(page)).toHaveCount(0);
  await expect(retryButton(page)).toHaveText("Retry 1 failed");
  const before = await simulatorRequestsFor(request, failing);
  expect(before.map((r) => r.status)).toEqual([200]);

  // The page reads the report again once the retry is answered; what it shows from then on comes from the state
  // after the retry, so the assertions below cannot pass on the failure still on screen from before it.
  let retryAnswered = false;
  const refetched = page.waitForResponse((r) => {
    if (r.request().method() === "POST" && r.url().endsWith(`/api/jobs/${job.id}/retry`)) retryAnswered = true;
    return retryAnswered && r.request().method() === "GET" && r.url().includes(`/api/jobs/${job.id}?`);
  });
  // No confirmation: the click alone puts the failed task back in the queue.
  const [retried] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === "POST" && r.url().endsWith(`/api/jobs/${job.id}/retry`)),
    retryButton(page).click(),
  ]);
  expect(retried.status()).toBe(200);
  expect(await retried.json()).toEqual({ retried: 1 });
  const seen = (await (await refetched).json()) as JobReport;
  // The row is pending again only while one simulator answer (~50 ms) is on its way, so whether the refetch
  // catches it is a race with the worker: it is recorded, not asserted. The simulator's log proves the new lookup.
  const seenRow = seen.results.find((r) => r.hash === failing);
  test.info().annotations.push({ type: "refetch after retry", description: `${seen.status}, row ${seenRow?.status}` });
  expect(["pending", "failed"]).toContain(seenRow?.status);
  await expect.poll(async () => (await simulatorRequestsFor(request, failing)).length, { timeout: 30_000 }).toBe(2);
  const after = await simulatorRequestsFor(request, failing);
  expect(after[1].status).toBe(200);
  expect(after[1].at > before[0].at).toBe(true);

  // The same malformed answer fails it the same way: no attempt count, since a malformed answer is never retried.
  await expect(page.getByTestId("job-status")).toHaveText("Complete");
  await expect(badge(page, failing)).toHaveText("Failed");
  await expect(row(page, failing).locator("td").nth(1).locator("p")).toHaveText([MALFORMED_REASON]);
  await expect(count(page, "0 pending")).toBeVisible();
  await expect(count(page, "1 completed")).toBeVisible();
  await expect(count(page, "1 failed")).toBeVisible();
  await expect(retryButton(page)).toHaveText("Retry 1 failed");
  await expect(retryButton(page)).toBeEnabled();

  const report = await getReport(request, job.id);
  expect(report.status).toBe("completed");
  expect(report.counts).toEqual({ total: 2, pending: 0, completed: 1, notFound: 0, failed: 1, cancelled: 0 });
  expect(report.results.find((r) => r.hash === failing)).toMatchObject({
    status: "failed",
    error: MALFORMED_REASON,
    retryAt: null,
  });
});
