// Reading the report page (app/jobs/[id]) the way a person does: its status line and the rows of its table.
import { expect, type Page } from "@playwright/test";

export interface ResultRow {
  hash: string;
  status: string;
  fortinet: string;
  engines: string;
  scanDate: string;
}

/** Waits until every lookup has finished; the simulator answers each in about 50 ms. */
export async function waitForComplete(page: Page): Promise<void> {
  await expect(page.getByTestId("job-status")).toHaveText("Complete", { timeout: 45_000 });
}

export async function readResults(page: Page): Promise<ResultRow[]> {
  return page
    .getByTestId("results")
    .locator("tbody tr")
    .evaluateAll((rows) =>
      rows.map((row) => {
        const cells = Array.from(row.querySelectorAll("td"), (cell) => (cell as HTMLElement).innerText.trim());
        // The status cell can hold an error and a retry time under the badge; the badge alone is the status.
        const badge = row.querySelector("td:nth-child(2) span")?.textContent ?? "";
        return { hash: cells[0], status: badge, fortinet: cells[2], engines: cells[3], scanDate: cells[4] };
      }),
    );
}
