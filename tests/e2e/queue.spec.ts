// The queue page: the request budget, the queue and the worker pools, polled live from /api/status.
import { randomBytes } from "node:crypto";
import { expect, test, type Locator } from "@playwright/test";
import type { ServiceStatus } from "../../lib/jobs/api-schema";

const number = async (locator: Locator) => Number((await locator.textContent())?.replace(/,/g, ""));

test("shows the source, the limits and the live worker pools", async ({ page, request }) => {
  const status = (await (await request.get("/api/status")).json()) as ServiceStatus;
  expect(status.workers.length).toBeGreaterThan(0);

  await page.goto("/");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Queue" }).click();
  await expect(page).toHaveURL(/\/queue$/);
  await expect(page.getByRole("link", { name: "Queue" })).toHaveAttribute("aria-current", "page");

  await expect(page.getByTestId("queue-source")).toContainText("Source: Simulator No VirusTotal API key is set");
  await expect(page.getByRole("heading", { name: "Requests to the simulator" })).toBeVisible();
  const n = (x: number) => x.toLocaleString("en");
  await expect(page.getByTestId("limit-minute").getByTestId("limit")).toHaveText(n(status.limits.perMinute));
  await expect(page.getByTestId("limit-day").getByTestId("limit")).toHaveText(n(status.limits.perDay));
  await expect(page.getByTestId("limit-month").getByTestId("limit")).toHaveText(n(status.limits.perMonth));
  await expect(page.getByRole("meter", { name: "Today (UTC)" })).toHaveAttribute("aria-valuemax", String(status.limits.perDay));
  await expect(page.getByTestId("queue-pause")).toHaveText("Lookups are not paused.");

  await expect(page.getByTestId("worker-count")).toHaveText(String(status.workers.length));
  const pools = page.getByTestId("worker-pool");
  await expect(pools).toHaveCount(status.workers.length);
  await expect(pools.first()).toContainText("Worker pool 1");
  // Where workers run (host, pid) is not shown to whoever can reach the page.
  expect(Object.keys(status.workers[0]).sort()).toEqual(["concurrency", "heartbeatAgeSeconds", "id", "lastBeatAt", "startedAt"]);
  await expect(pools.first()).toContainText(/Last heartbeat\d+ s ago/);
});

test("polls on its own and shows a submitted job's lookups being spent", async ({ page, request }) => {
  await page.goto("/queue");
  const updated = page.getByTestId("queue-updated").locator("time");
  await expect(updated).toBeVisible();
  const firstUpdate = await updated.getAttribute("datetime");
  // No reload: the page asks again by itself every 2 s.
  await expect(updated).not.toHaveAttribute("datetime", firstUpdate!, { timeout: 6000 });

  const usedToday = page.getByTestId("limit-day").getByTestId("used");
  const before = await number(usedToday);
  // Hashes no run has seen before, so each is a real request to the simulator rather than a cache hit.
  const fresh = Array.from({ length: 3 }, () => `e2e0${randomBytes(14).toString("hex")}`);
  const created = await request.post("/api/jobs", { data: { hashes: fresh, name: "Queue page test" } });
  expect(created.status()).toBe(201);

  await expect.poll(() => number(usedToday), { timeout: 20_000 }).toBeGreaterThanOrEqual(before + fresh.length);
  await expect(page.getByTestId("waiting-lookups").getByTestId("value")).toHaveText(/^\d[\d,]*$/);
});

test("says when lookups are paused and no worker is running", async ({ page }) => {
  // A pause and a stopped worker cannot be caused from here without stopping the suite's own stack, so the
  // status is rewritten on its way to the page.
  const until = "2031-02-03T04:05:00.000Z";
  await page.route("/api/status", async (route) => {
    const response = await route.fetch();
    const status = (await response.json()) as ServiceStatus;
    await route.fulfill({
      response,
      json: {
        ...status,
        pause: { until, cause: "daily_limit", reason: "the VirusTotal key's daily quota is used up" },
        workers: [],
      } satisfies ServiceStatus,
    });
  });
  await page.goto("/queue");
  const pause = page.getByTestId("queue-pause");
  await expect(pause).toContainText("Lookups paused until");
  await expect(pause).toContainText("the VirusTotal key's daily quota is used up");
  await expect(pause).toContainText("Cause: the daily limit.");
  await expect(pause.locator("time")).toHaveAttribute("title", "2031-02-03 04:05 UTC");
  await expect(page.getByTestId("worker-count")).toHaveText("0");
  await expect(page.getByTestId("no-workers")).toBeVisible();
});

test("stops polling when the status cannot be read, until asked to try again", async ({ page }) => {
  await page.goto("/queue");
  await expect(page.getByTestId("worker-pool").first()).toBeVisible();

  let failing = true;
  let calls = 0;
  await page.route("/api/status", async (route) => {
    calls++;
    if (failing) await route.fulfill({ status: 500, json: { error: { code: "internal", message: "boom" } } });
    else await route.continue();
  });
  const alert = page.getByRole("alert").filter({ hasText: "could not be read" });
  await expect(alert).toBeVisible({ timeout: 15_000 });
  // The data last read stays on screen.
  await expect(page.getByTestId("worker-pool").first()).toBeVisible();

  failing = false;
  await alert.getByRole("button", { name: "Try again" }).click();
  await expect(alert).toHaveCount(0);
  expect(calls).toBeGreaterThan(0);
});

test("the queue page fits a phone's width", async ({ page }) => {
  await page.setViewportSize({ width: 375, height: 812 });
  await page.goto("/queue");
  await expect(page.getByTestId("worker-pool").first()).toBeVisible();
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
});
