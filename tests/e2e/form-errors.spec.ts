// The home page's form refuses what holds nothing to look up, and stays on the page to say why.
import { expect, test, type Page } from "@playwright/test";

// Scoped to the form: Next.js puts its own, empty, role=alert route announcer on every page.
const formError = (page: Page) => page.locator("form").getByRole("alert");

test("an empty form asks for a file or hashes", async ({ page, baseURL }) => {
  await page.goto("/");
  await page.getByRole("button", { name: "Look up hashes" }).click();
  await expect(formError(page)).toHaveText("Choose a file or paste some hashes.");
  await expect(page).toHaveURL(`${baseURL}/`);
});

test("a list of comments only is refused as holding no hashes", async ({ page, baseURL }) => {
  await page.goto("/");
  await page.locator("#text").fill("# an IOC list with its header\n// and nothing else\n");
  await page.getByRole("button", { name: "Look up hashes" }).click();
  await expect(formError(page)).toContainText(/no hashes/i);
  await expect(page).toHaveURL(`${baseURL}/`);
});
