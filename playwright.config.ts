// End-to-end tests: the built app (`next build` first), its worker and the VirusTotal simulator, driven in Debian's
// Chromium. The stack runs on its own ports, so it never clashes with `npm run dev`.
import fs from "node:fs";
import { defineConfig } from "@playwright/test";
import { E2E_BASE_URL, E2E_OUTPUT_DIR } from "./tests/e2e/settings";

// Playwright's own browser downloads are not used: the system Chromium is.
const chromiumPath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
if (!fs.existsSync(chromiumPath)) {
  throw new Error(
    `Chromium was not found at ${chromiumPath}. Install it (apt-get install chromium) or set CHROMIUM_PATH to its path.`,
  );
}

export default defineConfig({
  testDir: "tests/e2e",
  outputDir: E2E_OUTPUT_DIR,
  workers: 1,
  forbidOnly: true,
  reporter: "list",
  globalSetup: "./tests/e2e/global-setup.ts",
  // The suite takes about 8 minutes on a 2-core machine (the million-hash spec up to 9 alone, when its cancel is
  // slow); the stack starts in a few seconds, a cold embedded PostgreSQL (first run, initdb) takes longer.
  globalTimeout: 20 * 60_000,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  use: {
    baseURL: E2E_BASE_URL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    actionTimeout: 15_000,
    navigationTimeout: 30_000,
  },
  projects: [
    {
      name: "chromium",
      use: {
        browserName: "chromium",
        launchOptions: {
          executablePath: chromiumPath,
          args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        },
      },
    },
  ],
});
