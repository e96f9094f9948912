// Starts the built app, worker, simulator and database once for the whole suite; the returned function stops them.
import fs from "node:fs";
import path from "node:path";
import { startEmbeddedPostgres, type EmbeddedServer } from "../../lib/db/embedded";
import { parseEnv } from "../../lib/env";
import { isListening } from "../../lib/net";
import { projectRoot, WEB_SERVER_FILE, WORKER_FILE } from "../../scripts/processes";
import { startStack, type Stack } from "../../scripts/stack";
import { E2E_ENV, E2E_PORT, E2E_SIMULATOR_PORT, STACK_LOG } from "./settings";
import { createTestDatabase, type TestDatabase } from "./test-database";

export default async function globalSetup(): Promise<() => Promise<void>> {
  // The suite's own build (npm run test:e2e sets NEXT_DIST_DIR): the web app below is served from the same folder.
  const distDir = process.env.NEXT_DIST_DIR || ".next";
  if (!["BUILD_ID", WEB_SERVER_FILE, WORKER_FILE].every((file) => fs.existsSync(path.join(projectRoot, distDir, file)))) {
    throw new Error(`No production build in ${distDir}: run \`npm run test:e2e\` (it builds into .next-e2e, then tests).`);
  }
  for (const port of [E2E_PORT, E2E_SIMULATOR_PORT]) {
    // Something already answering there (a previous run that was killed?) would be tested instead of this build.
    if (await isListening(port)) throw new Error(`Port ${port} is already in use; the e2e stack needs it.`);
  }

  const logPath = path.join(projectRoot, STACK_LOG);
  fs.mkdirSync(path.dirname(logPath), { recursive: true });
  const logFd = fs.openSync(logPath, "w");
  let logOpen = true;
  // A child's last lines can arrive after the log is closed; they are dropped rather than thrown on.
  const write = (line: string) => logOpen && fs.writeSync(logFd, `${line}\n`);
  const closeLog = () => {
    logOpen = false;
    fs.closeSync(logFd);
  };

  // Every run gets a fresh database: on DATABASE_URL's server when set, else on an embedded server of its own.
  const settings = parseEnv({ ...process.env, ...E2E_ENV });
  let server: EmbeddedServer | undefined;
  let database: TestDatabase | undefined;
  let stack: Stack;
  try {
    if (!settings.databaseUrl) {
      server = await startEmbeddedPostgres({ ...settings.embeddedPostgres, database: "postgres", log: write });
    }
    database = await createTestDatabase(settings.databaseUrl ?? server!.url);
    write(`Using database ${database.url.replace(/\/\/[^@]*@/, "//")}`);
    stack = await startStack({
      web: "start",
      env: { ...E2E_ENV, DATABASE_URL: database.url },
      onLine: (name, line) => write(`[${name}] ${line}`),
      log: write,
    });
    // For a spec that starts a web process of its own on this database (api-token.spec.ts): workers inherit it.
    process.env.E2E_DATABASE_URL = database.url;
  } catch (error) {
    await database?.drop();
    await server?.stop();
    closeLog();
    const tail = fs.readFileSync(logPath, "utf8").trimEnd().split("\n").slice(-20).join("\n");
    throw new Error(`The e2e stack did not start: ${(error as Error).message}\nLast lines of ${STACK_LOG}:\n${tail}`, {
      cause: error,
    });
  }

  return async () => {
    try {
      await stack.stop();
      await database?.drop();
      await server?.stop();
    } finally {
      closeLog();
    }
  };
}
