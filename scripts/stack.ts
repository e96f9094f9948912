// The whole app as one unit: database (embedded when DATABASE_URL is unset), migrations, simulator when no key is
// set, worker, and the web app. `npm start`, `npm run dev` and the end-to-end tests all start it through here.
import { startEmbeddedPostgres } from "../lib/db/embedded";
import { migrateDatabase } from "../lib/db/migrate";
import { parseEnv } from "../lib/env";
import { entryPoints, spawnChild, waitForHttp, webArgs, workerArgs, type Child } from "./processes";

export interface StackOptions {
  /** `dev` runs `next dev` and the worker from its sources; `start` runs the built app and worker (`npm run build` first). */
  web: "dev" | "start";
  env?: Record<string, string | undefined>;
  onLine?: (name: string, line: string) => void;
  log?: (line: string) => void;
  /** A child ended while the stack was up (a worker declared dead is restarted instead, as a supervisor would). */
  onChildExit?: (name: string, code: number | string) => void;
}

/** The worker's exit code when it found itself declared dead after a silence (worker/index.ts). */
const WORKER_DECLARED_DEAD = 75;

export interface Stack {
  url: string;
  databaseUrl: string;
  children: Child[];
  stop(): Promise<void>;
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const rawEnv = { ...process.env, ...options.env } as NodeJS.ProcessEnv;
  const settings = parseEnv(rawEnv);
  const log = options.log ?? console.log;

  let stopDatabase = async () => {};
  let databaseUrl = settings.databaseUrl;
  if (!databaseUrl) {
    const embedded = await startEmbeddedPostgres({ ...settings.embeddedPostgres, log });
    databaseUrl = embedded.url;
    stopDatabase = embedded.stop;
  }
  await migrateDatabase(databaseUrl);
  log("Database migrated.");

  const childEnv = { NEXT_TELEMETRY_DISABLED: "1", ...options.env, DATABASE_URL: databaseUrl };
  const children: Child[] = [];
  let stopping = false;
  const stop = async () => {
    stopping = true;
    await Promise.all([...children].reverse().map((child) => child.stop()));
    await stopDatabase();
  };
  const watch = (child: Child, restart?: () => Child) => {
    void child.exited.then((code) => {
      if (stopping) return;
      if (restart && code === WORKER_DECLARED_DEAD) {
        log("The worker was silent for too long, was declared dead and exited: starting a new one.");
        children[children.indexOf(child)] = restart();
        return;
      }
      options.onChildExit?.(child.name, code);
    });
    return child;
  };
  const startWorker = (): Child =>
    watch(spawnChild("worker", workerArgs(options.web), { env: childEnv, onLine: options.onLine }), startWorker);

  try {
    if (settings.vt.source === "simulator") {
      const simulator = spawnChild("simulator", [entryPoints.tsx, entryPoints.simulator], {
        env: { ...childEnv, SIMULATOR_PORT: String(settings.simulator.port) },
        onLine: options.onLine,
      });
      children.push(watch(simulator));
      await waitForHttp(`http://127.0.0.1:${settings.simulator.port}/_simulator/health`, 30_000, simulator);
    }
    children.push(startWorker());
    const web = spawnChild("web", webArgs(options.web, settings.port), {
      env: childEnv,
      onLine: options.onLine,
    });
    children.push(watch(web));
    const url = `http://localhost:${settings.port}`;
    await waitForHttp(url, 120_000, web);
    return { url, databaseUrl, children, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
