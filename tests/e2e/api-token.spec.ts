// A deployment that asks for API tokens (API_TOKENS): the home page asks for one and keeps it in this browser, the
// form and the report's buttons send it, and the API refuses a request without it. The suite's stack runs without
// tokens, so this spec starts a second web process of the same build, on the same database, with two tokens set;
// the stack's worker looks its jobs up.
import fs from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { expect, test, type APIRequestContext, type Page, type Response } from "@playwright/test";
import postgres from "postgres";
import type { CreateJobResponse, JobReport } from "../../lib/jobs/api-schema";
import { isListening } from "../../lib/net";
import { projectRoot, spawnChild, waitForHttp, webArgs, type Child } from "../../scripts/processes";
import { waitForComplete } from "./report-page";
import { E2E_ENV, E2E_OUTPUT_DIR, E2E_PORT, E2E_SIMULATOR_PORT } from "./settings";

const TOKEN_PORT = E2E_PORT + 7;
const TOKEN_URL = `http://localhost:${TOKEN_PORT}`;
const WEB_LOG = `${E2E_OUTPUT_DIR}/e2e-api-token-web.log`;
// API_TOKENS is a comma-separated list: the API check uses the first, the browser the second.
const SCRIPT_TOKEN = "e2e-script-token-0123456789abcdef";
const BROWSER_TOKEN = "e2e-browser-token-fedcba9876543210";
const STORED_TOKEN_KEY = "hashscan.apiToken";
const MANAGE_TOKENS_KEY = "hashscan.manageTokens";

// tests/fixtures/vt/001015aafcae….json by MD5: always found.
const FOUND = "b214da9f6b0d6e6de5090b3f9672defe";
// The simulator's documented answers (lib/virustotal/simulator/README.md), on hashes no earlier run has asked.
// `5030`: 503 every time, retried with backoff for about 17 minutes, so the row stays pending throughout the test.
const unavailableHash = () => `5030${randomBytes(30).toString("hex")}`;
// `bad0`: 200 with a body that is not JSON, which fails the lookup at once, and again after every retry.
const malformedHash = () => `bad0${randomBytes(14).toString("hex")}`;
const uniqueName = (what: string) => `E2E API token ${what} ${randomBytes(4).toString("hex")}`;

const REPORT_URL = new RegExp(`^${TOKEN_URL}/jobs/([A-Za-z0-9_-]{22})$`);
// Anchored: the recent-jobs list's buttons are labelled with the jobs' names, which hold "API token" too.
const tokenField = (page: Page) => page.getByLabel(/^API token/);
const submitButton = (page: Page) => page.getByRole("button", { name: "Look up hashes" });
// Scoped to the form: Next.js puts its own, empty, role=alert route announcer on every page.
const formError = (page: Page) => page.locator("form").getByRole("alert");
const row = (page: Page, hash: string) => page.getByTestId("results").locator("tbody tr", { hasText: hash });
const badge = (page: Page, hash: string) => row(page, hash).locator("td").nth(1).locator("span");
const cancelButton = (page: Page) => page.getByRole("button", { name: "Cancel pending lookups" });
const retryButton = (page: Page) => page.getByRole("button", { name: /^Retry \d+ failed$/ });

let web: Child | undefined;
let sql: postgres.Sql | undefined;

test.describe.configure({ timeout: 120_000 });

test.beforeAll(async () => {
  // `next start` of a production build, on a machine that may be busy.
  test.setTimeout(180_000);
  const databaseUrl = process.env.E2E_DATABASE_URL;
  if (!databaseUrl) throw new Error("E2E_DATABASE_URL is not set: global-setup.ts hands the stack's database to the specs through it.");
  if (await isListening(TOKEN_PORT)) throw new Error(`Port ${TOKEN_PORT} is already in use; this spec's web process needs it.`);

  const logPath = path.join(projectRoot, WEB_LOG);
  fs.mkdirSync(path.dirname(logPath), { recursive: true });
  fs.writeFileSync(logPath, "");
  web = spawnChild("web-api-tokens", webArgs("start", TOKEN_PORT), {
    env: {
      NEXT_TELEMETRY_DISABLED: "1",
      ...E2E_ENV,
      PORT: String(TOKEN_PORT),
      DATABASE_URL: databaseUrl,
      API_TOKENS: `${SCRIPT_TOKEN}, ${BROWSER_TOKEN}`,
      // The suite's own build, as global-setup serves it.
      ...(process.env.NEXT_DIST_DIR ? { NEXT_DIST_DIR: process.env.NEXT_DIST_DIR } : {}),
    },
    onLine: (name, line) => fs.appendFileSync(logPath, `[${name}] ${line}\n`),
  });
  try {
    await waitForHttp(TOKEN_URL, 150_000, web);
  } catch (error) {
    await web.stop();
    const tail = fs.readFileSync(logPath, "utf8").trimEnd().split("\n").slice(-20).join("\n");
    throw new Error(`The web process with API_TOKENS did not start: ${(error as Error).message}\nLast lines of ${WEB_LOG}:\n${tail}`, {
      cause: error,
    });
  }
  sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
});

test.afterAll(async () => {
  await web?.stop();
  await sql?.end();
});

/** The ids of the jobs of that name in the database: what a submission really created. */
async function jobsNamed(name: string): Promise<string[]> {
  const db = sql!;
  const rows = await db<{ id: string }[]>`select id from jobs where name = ${name} order by created_at`;
  return rows.map((r) => r.id);
}

async function getReport(request: APIRequestContext, id: string): Promise<JobReport> {
  // Reading a report never needs a token: its address is the key.
  const response = await request.get(`${TOKEN_URL}/api/jobs/${id}`);
  expect(response.status()).toBe(200);
  return (await response.json()) as JobReport;
}

async function simulatorRequestsFor(request: APIRequestContext, hash: string): Promise<number> {
  const response = await request.get(`http://127.0.0.1:${E2E_SIMULATOR_PORT}/_simulator/requests`);
  expect(response.status()).toBe(200);
  const { requests } = (await response.json()) as { requests: { hash: string | null }[] };
  return requests.filter((r) => r.hash === hash).length;
}

test("the form asks for the token, refuses a submission without a valid one, and keeps the token in this browser", async ({
  page,
  browser,
}) => {
  // The suite's own stack asks for no token.
  await page.goto("/");
  await expect(submitButton(page)).toBeVisible();
  await expect(tokenField(page)).toHaveCount(0);

  const name = uniqueName("form");
  const actionPosts: string[] = [];
  page.on("request", (r) => {
    if (r.method() === "POST" && r.url().startsWith(TOKEN_URL) && r.headers()["next-action"]) actionPosts.push(r.url());
  });

  await page.goto(`${TOKEN_URL}/`);
  await expect(tokenField(page)).toBeVisible();
  await expect(tokenField(page)).toHaveAttribute("type", "password");
  await expect(tokenField(page)).toHaveValue("");
  await page.locator("#text").fill(FOUND);
  // Filled again before each submission: React resets a form's uncontrolled fields once its action is answered.
  const fillName = () => page.locator("#name").fill(name);
  await fillName();

  // No token: the browser's own check stops the form on the token field, and nothing is sent.
  await tokenField(page).evaluate((input) => input.addEventListener("invalid", () => input.setAttribute("data-refused", ""), { once: true }));
  await submitButton(page).click();
  await expect(tokenField(page)).toHaveAttribute("data-refused", "");
  expect(await tokenField(page).evaluate((input: HTMLInputElement) => input.validity.valueMissing)).toBe(true);
  expect(await tokenField(page).evaluate((input: HTMLInputElement) => input.validationMessage)).not.toBe("");
  await expect(page).toHaveURL(`${TOKEN_URL}/`);

  // A page that skips that check (or a script posting the form) meets the server's refusal, said on the page.
  await tokenField(page).evaluate((input) => input.removeAttribute("required"));
  await fillName();
  await submitButton(page).click();
  await expect(formError(page)).toHaveText("This deployment needs an API token: send Authorization: Bearer <token>.");
  await expect(page).toHaveURL(`${TOKEN_URL}/`);
  expect(actionPosts).toHaveLength(1);

  // A token this deployment does not know is refused as such.
  await tokenField(page).fill("not-a-token-of-this-deployment");
  await fillName();
  await submitButton(page).click();
  await expect(formError(page)).toHaveText("This API token is not valid here.");
  await expect(page).toHaveURL(`${TOKEN_URL}/`);
  expect(actionPosts).toHaveLength(2);
  expect(await jobsNamed(name)).toEqual([]);

  // With the token, the submission opens the report.
  await tokenField(page).fill(BROWSER_TOKEN);
  await fillName();
  await submitButton(page).click();
  await expect(page).toHaveURL(REPORT_URL);
  const id = REPORT_URL.exec(page.url())![1];
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(name);
  expect(await jobsNamed(name)).toEqual([id]);
  // The stack's worker, on the same database, looks it up.
  await waitForComplete(page);

  // The token is kept in this browser: the home page has it again, also after a reload.
  await page.goto(`${TOKEN_URL}/`);
  await expect(tokenField(page)).toHaveValue(BROWSER_TOKEN);
  await page.reload();
  await expect(tokenField(page)).toHaveValue(BROWSER_TOKEN);
  expect(await page.evaluate((key) => localStorage.getItem(key), STORED_TOKEN_KEY)).toBe(BROWSER_TOKEN);

  // Only in this browser: another one is asked for it.
  const stranger = await browser.newContext();
  try {
    const other = await stranger.newPage();
    await other.goto(`${TOKEN_URL}/`);
    await expect(tokenField(other)).toBeVisible();
    await expect(tokenField(other)).toHaveValue("");
  } finally {
    await stranger.close();
  }
});

test("the report's retry and cancel send this browser's API token with the job's manage token", async ({ page, request }) => {
  const failing = malformedHash();
  const waiting = unavailableHash();
  const name = uniqueName("manage");
  page.on("dialog", (dialog) => void dialog.accept());

  await page.goto(`${TOKEN_URL}/`);
  await page.locator("#text").fill(`${failing}\n${waiting}\n`);
  await page.locator("#name").fill(name);
  await tokenField(page).fill(BROWSER_TOKEN);
  await submitButton(page).click();
  await expect(page).toHaveURL(REPORT_URL);
  const id = REPORT_URL.exec(page.url())![1];
  // The form kept the job's manage token in this browser before it opened the report.
  const manageToken = await page.evaluate(([key, job]) => JSON.parse(localStorage.getItem(key) ?? "{}")[job], [MANAGE_TOKENS_KEY, id]);
  expect(manageToken).toMatch(/^[\w-]{43}$/);

  await expect(badge(page, failing)).toHaveText("Failed");
  await expect(badge(page, waiting)).toHaveText("Pending");
  await expect(retryButton(page)).toHaveText("Retry 1 failed");
  await expect(cancelButton(page)).toBeVisible();

  const answerTo = (action: "retry" | "cancel") =>
    page.waitForResponse((r) => r.request().method() === "POST" && r.url() === `${TOKEN_URL}/api/jobs/${id}/${action}`);
  /** The tokens a manage request carried: always the job's manage token, the API token when this browser has it. */
  const expectSent = async (response: Response, apiToken: string | undefined) => {
    const headers = await response.request().allHeaders();
    expect(headers.authorization).toBe(apiToken === undefined ? undefined : `Bearer ${apiToken}`);
    expect(headers["x-manage-token"]).toBe(manageToken);
  };

  // Without the API token (taken out of this browser), the manage token alone is refused, and the page says why.
  await page.evaluate((key) => localStorage.removeItem(key), STORED_TOKEN_KEY);
  const [refused] = await Promise.all([answerTo("retry"), retryButton(page).click()]);
  expect(refused.status()).toBe(401);
  await expectSent(refused, undefined);
  await expect(page.getByRole("alert").filter({ hasText: "This deployment needs an API token" })).toBeVisible();
  expect((await getReport(request, id)).counts).toMatchObject({ pending: 1, failed: 1 });
  expect(await simulatorRequestsFor(request, failing)).toBe(1);

  // With it back, retry works from this browser: both tokens are sent.
  await page.evaluate(([key, token]) => localStorage.setItem(key, token), [STORED_TOKEN_KEY, BROWSER_TOKEN]);
  const [retried] = await Promise.all([answerTo("retry"), retryButton(page).click()]);
  expect(retried.status()).toBe(200);
  expect(await retried.json()).toEqual({ retried: 1 });
  await expectSent(retried, BROWSER_TOKEN);
  // The worker looks the failed hash up again, and the malformed answer fails it again.
  await expect.poll(() => simulatorRequestsFor(request, failing), { timeout: 30_000 }).toBe(2);
  await expect
    .poll(async () => (await getReport(request, id)).results.find((r) => r.hash === failing)?.status, { timeout: 30_000 })
    .toBe("failed");

  // And cancel, once confirmed, ends the pending lookup.
  const [cancelled] = await Promise.all([answerTo("cancel"), cancelButton(page).click()]);
  expect(cancelled.status()).toBe(200);
  expect(await cancelled.json()).toEqual({ cancelled: 1 });
  await expectSent(cancelled, BROWSER_TOKEN);
  await expect(page.getByTestId("job-status")).toHaveText("Cancelled");
  await expect(badge(page, waiting)).toHaveText("Cancelled");
  await expect(cancelButton(page)).toHaveCount(0);

  const report = await getReport(request, id);
  expect(report.status).toBe("cancelled");
  expect(report.counts).toMatchObject({ total: 2, pending: 0, failed: 1, cancelled: 1 });
});

test("the API answers 401 with WWW-Authenticate without a bearer token, and 201 with one", async ({ request }) => {
  const name = uniqueName("api");
  const data = { hashes: [FOUND], name };

  const missing = await request.post(`${TOKEN_URL}/api/jobs`, { data });
  expect(missing.status()).toBe(401);
  expect(missing.headers()["www-authenticate"]).toBe('Bearer realm="hashscan"');
  expect(await missing.json()).toEqual({
    error: { code: "unauthorized", message: "This deployment needs an API token: send Authorization: Bearer <token>." },
  });

  const wrong = await request.post(`${TOKEN_URL}/api/jobs`, { data, headers: { authorization: "Bearer not-a-token-of-this-deployment" } });
  expect(wrong.status()).toBe(401);
  expect(wrong.headers()["www-authenticate"]).toBe('Bearer realm="hashscan"');
  expect(await wrong.json()).toEqual({ error: { code: "unauthorized", message: "This API token is not valid here." } });
  expect(await jobsNamed(name)).toEqual([]);

  const created = await request.post(`${TOKEN_URL}/api/jobs`, { data, headers: { authorization: `Bearer ${SCRIPT_TOKEN}` } });
  expect(created.status()).toBe(201);
  const job = (await created.json()) as CreateJobResponse;
  expect(job.url).toBe(`${TOKEN_URL}/jobs/${job.id}`);
  expect(job).toMatchObject({ accepted: 1, duplicates: 0, invalidCount: 0 });
  expect(job.manageToken).toMatch(/^[\w-]{43}$/);
  expect(await jobsNamed(name)).toEqual([job.id]);
  expect((await getReport(request, job.id)).name).toBe(name);
});
