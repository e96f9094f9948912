// The whole app as one unit: database (embedded when DATABASE_URL is unset), migrations, simulator when no key is
// set, worker, and the web app. `npm start`, `npm run dev` and the end-to-end tests all start it through here.
import { startEmbeddedPostgres } from "../lib/db/embedded";
import { migrateDatabase } from "../lib/db/migrate";
import { parseEnv } from "../lib/env";
import { entryPoints, spawnChild, waitForHttp, type Child } from "./processes";

export interface StackOptions {
  /** `dev` runs `next dev`; `start` runs the built app (`next build` first). */
  web: "dev" | "start";
  env?: Record<string, string | undefined>;
  onLine?: (name: string, line: string) => void;
  log?: (line: string) => void;
}

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
  const stop = async () => {
    await Promise.all(children.reverse().map((child) => child.stop()));
    await stopDatabase();
  };

  try {
    if (settings.vt.source === "simulator") {
      const simulator = spawnChild("simulator", [entryPoints.tsx, entryPoints.simulator], {
        env: { ...childEnv, SIMULATOR_PORT: String(settings.simulator.port) },
        onLine: options.onLine,
      });
      children.push(simulator);
      await waitForHttp(`http://127.0.0.1:${settings.simulator.port}/_simulator/health`, 30_000, simulator);
    }
    children.push(spawnChild("worker", [entryPoints.tsx, entryPoints.worker], { env: childEnv, onLine: options.onLine }));
    const web = spawnChild("web", [entryPoints.next, options.web, "-p", String(settings.port)], {
      env: childEnv,
      onLine: options.onLine,
    });
    children.push(web);
    const url = `http://localhost:${settings.port}`;
    await waitForHttp(url, 120_000, web);
    return { url, databaseUrl, children, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
