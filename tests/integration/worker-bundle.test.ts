// The production worker: worker/index.ts bundled as `npm run build` bundles it and run by node alone, with the options
// every production path gives it (scripts/processes.ts; package.json and docker-compose.yml spell them out again).
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createJob } from "../../lib/jobs/create";
import { getJobReport } from "../../lib/jobs/report";
import { bundle } from "../../scripts/build-bundles";
import { projectRoot, spawnChild, WORKER_FILE, WORKER_NODE_OPTIONS } from "../../scripts/processes";
import { startSimulator, waitFor } from "./helpers/stack";
import { createTestDatabase, type TestDatabase } from "./helpers/test-database";

// Inside the project, so that the bundle's packages resolve from node_modules as they do in .next.
const distDir = path.join(projectRoot, "data", `test-bundle-${randomBytes(4).toString("hex")}`);
let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase("worker_bundle");
  await bundle("worker", distDir);
});
afterAll(async () => {
  await t?.drop();
  fs.rmSync(distDir, { recursive: true, force: true });
});

describe("the bundled worker", () => {
  it("runs on node alone: starts, looks files up, and stops cleanly on SIGTERM", { timeout: 60_000 }, async () => {
    const sim = await startSimulator();
    const lines: string[] = [];
    const worker = spawnChild("worker", [...WORKER_NODE_OPTIONS, path.join(distDir, WORKER_FILE)], {
      env: { DATABASE_URL: t.url, VT_API_KEY: "", SIMULATOR_URL: sim.apiUrl, WORKER_CONCURRENCY: "2" },
      onLine: (_name, line) => lines.push(line),
    });
    try {
      const hashes = ["b214da9f6b0d6e6de5090b3f9672defe", "dead" + "2".repeat(28)];
      const job = await createJob(t.db, { hashes }, { cache: { ttlHours: 24, sources: ["simulator"] }, lookupMaxAttempts: 2 });
      const report = await waitFor(`job ${job.id} to complete`, async () => {
        const r = await getJobReport(t.db, job.id, { limit: 10 });
        return r?.status === "completed" ? r : undefined;
      });
      expect(report.results.map((r) => r.status).sort()).toEqual(["completed", "not_found"]);
    } finally {
      await worker.stop();
      await sim.simulator.close();
    }
    expect(await worker.exited).toBe(0);
    expect(lines.some((line) => line.includes('"event":"worker_stopped"'))).toBe(true);
  });

  it("is started the same way by npm run worker and by Docker Compose", () => {
    const command = ["node", ...WORKER_NODE_OPTIONS, `.next/${WORKER_FILE}`];
    const scripts = (JSON.parse(fs.readFileSync(path.join(projectRoot, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    expect(scripts.worker).toBe(command.join(" "));
    const compose = fs.readFileSync(path.join(projectRoot, "docker-compose.yml"), "utf8");
    expect(compose).toContain(`command: ${JSON.stringify(command).replaceAll('","', '", "')}`);
  });
});
