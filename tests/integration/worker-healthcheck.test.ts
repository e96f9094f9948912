// The worker container's healthcheck (worker/healthcheck.ts), run as Docker runs it: a process of its own, judged by
// its exit code. Healthy only while a pool of this host has beaten within the stale time.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerPool } from "../../lib/db/queries/worker-pools";
import { bundle } from "../../scripts/build-bundles";
import { projectRoot, spawnChild, WORKER_HEALTHCHECK_FILE } from "../../scripts/processes";
import { startSimulator, startWorker, waitFor } from "./helpers/stack";
import { createTestDatabase, type TestDatabase } from "./helpers/test-database";

let t: TestDatabase;
/** Bundled as npm run build bundles it, into a folder of this test's own inside the project (its imports resolve there). */
const distDir = path.join(projectRoot, "data", `test-healthcheck-${process.pid}`);
beforeAll(async () => {
  t = await createTestDatabase("worker_healthcheck");
  await bundle("healthcheck", distDir);
});
afterAll(async () => {
  fs.rmSync(distDir, { recursive: true, force: true });
  await t?.drop();
});

async function healthcheck(env: Record<string, string>): Promise<{ code: number | string; output: string }> {
  const lines: string[] = [];
  // The command docker-compose.yml gives the worker's healthcheck.
  const child = spawnChild("healthcheck", [path.join(distDir, WORKER_HEALTHCHECK_FILE)], {
    env,
    onLine: (_name, line) => lines.push(line),
  });
  const code = await child.exited;
  return { code, output: lines.join("\n") };
}

const check = () => healthcheck({ DATABASE_URL: t.url });

describe("the worker healthcheck", () => {
  it("is unhealthy without a pool of this host that beat within the stale time, healthy with one", async () => {
    expect(await check()).toEqual({ code: 1, output: `no worker pool on ${os.hostname()} has beaten within the last 60 s` });

    // Another container's pool says nothing about this one.
    await registerPool(t.db, { id: "elsewhere", hostname: `not-${os.hostname()}`, pid: 1, concurrency: 4 });
    expect((await check()).code).toBe(1);

    // A pool of this host, silent for longer than WORKER_STALE_SECONDS.
    await registerPool(t.db, { id: "silent", hostname: os.hostname(), pid: 1, concurrency: 4 });
    await t.sql`update worker_pools set last_beat_at = now() - interval '61 seconds' where id = 'silent'`;
    expect((await check()).code).toBe(1);
    expect((await healthcheck({ DATABASE_URL: t.url, WORKER_STALE_SECONDS: "120" })).code).toBe(0);

    await t.sql`update worker_pools set last_beat_at = now() where id = 'silent'`;
    const healthy = await check();
    expect(healthy.code).toBe(0);
    expect(healthy.output).toMatch(new RegExp(`^worker pool silent on ${os.hostname()} last beat at `));
    await t.sql`delete from worker_pools`;
  });

  it("fails, and says why, when the database refuses the connection", async () => {
    // Nothing listens on port 1.
    const { code, output } = await healthcheck({ DATABASE_URL: "postgres://hashscan:x@127.0.0.1:1/hashscan" });
    expect(code).toBe(1);
    expect(output).toMatch(/^the database check failed: .*ECONNREFUSED/);
  });

  it("finds a real worker's pool, and stops finding it once the worker has stopped", { timeout: 60_000 }, async () => {
    const sim = await startSimulator();
    const worker = startWorker({ DATABASE_URL: t.url, SIMULATOR_URL: sim.apiUrl });
    try {
      await waitFor("the worker's pool to beat", async () => (await t.sql`select id from worker_pools`).length === 1);
      expect((await check()).code).toBe(0);
      await worker.stop();
      expect((await check()).code).toBe(1);
    } finally {
      await worker.stop();
      await sim.simulator.close();
    }
  });
});
