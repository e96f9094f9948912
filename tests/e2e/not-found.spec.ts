import { expect, test } from "@playwright/test";

test("an unknown report id answers 404 with the report's own not-found page", async ({ page }) => {
  const response = await page.goto("/jobs/AAAAAAAAAAAAAAAAAAAAAA");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "No such report" })).toBeVisible();
});
