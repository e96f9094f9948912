// Real processes for the integration tests: the simulator in-process over real HTTP, the worker as a child process.
import { afterAll, beforeAll } from "vitest";
import { createSimulator, type Simulator, type SimulatorOptions } from "../../../lib/virustotal/simulator/server";
import { entryPoints, spawnChild, type Child } from "../../../scripts/processes";
import { createTestDatabase, type TestDatabase } from "./test-database";

export async function startSimulator(options: SimulatorOptions = {}) {
  const simulator: Simulator = createSimulator({ latencyMs: 0, ...options });
  const port = await simulator.listen(0);
  return { simulator, port, apiUrl: `http://127.0.0.1:${port}/api/v3` };
}

export interface WorkerProcess extends Child {
  lines: string[];
}

/** `npm run worker`, as a child process with its own environment; its log lines are kept for assertions. */
export function startWorker(env: Record<string, string>): WorkerProcess {
  const lines: string[] = [];
  const child = spawnChild("worker", [entryPoints.tsx, entryPoints.worker], {
    env: { VT_API_KEY: "", WORKER_CONCURRENCY: "4", ...env },
    onLine: (_name, line) => {
      lines.push(line);
      if (process.env.SHOW_WORKER_LOGS) console.log(`[worker] ${line}`);
    },
  });
  return Object.assign(child, { lines });
}

export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | null | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export interface WorkerStack {
  t: TestDatabase;
  sim: Awaited<ReturnType<typeof startSimulator>>;
  worker: WorkerProcess;
}

/**
 * The usual arrangement of a worker test file: a fresh database, the simulator, and one `npm run worker` pointed
 * at both, set up before the file's tests and taken down after. Fields are filled in by beforeAll. `database`
 * supplies another database than a fresh one on the suite's server (one on a server of the file's own, say);
 * its `drop()` is called last.
 */
export function useWorkerStack<T extends TestDatabase = TestDatabase>(
  label: string,
  options: { simulator?: SimulatorOptions; worker?: Record<string, string>; database?: () => Promise<T> } = {},
): WorkerStack & { t: T } {
  const stack = {} as WorkerStack & { t: T };
  beforeAll(async () => {
    stack.t = options.database ? await options.database() : ((await createTestDatabase(label)) as T);
    stack.sim = await startSimulator(options.simulator);
    stack.worker = startWorker({ DATABASE_URL: stack.t.url, SIMULATOR_URL: stack.sim.apiUrl, ...options.worker });
  });
  afterAll(async () => {
    await stack.worker?.stop();
    await stack.sim?.simulator.close();
    await stack.t?.drop();
  });
  return stack;
}
