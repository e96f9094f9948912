// A PostgreSQL server of one test file's own, for tests that stop and start it (the suite's shared server must stay
// up for the others): an embedded cluster in a fresh folder under the system's temp dir, on a free port.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { createDb } from "../../../lib/db/client";
import { startEmbeddedPostgres } from "../../../lib/db/embedded";
import { migrateDatabase } from "../../../lib/db/migrate";
import { isListening } from "../../../lib/net";
import type { TestDatabase } from "./test-database";

/** Ports kept for servers of the tests' own, away from the embedded ones (543x9) and the usual 5432. */
const PORTS = { first: 55400, last: 55499 };

export type ShutdownMode = "fast" | "immediate";

export interface OwnPostgres extends TestDatabase {
  port: number;
  dir: string;
  /**
   * Stops the server as `pg_ctl stop -m <mode>` would, by its signal to the postmaster: `fast` ends every session
   * with 57P01 and checkpoints; `immediate` kills the backends at once and leaves crash recovery to the next start.
   */
  stopServer(mode: ShutdownMode): Promise<void>;
  /** Starts it again on the same port and data. */
  startServer(): Promise<void>;
}

export async function startOwnPostgres(label: string): Promise<OwnPostgres> {
  const dir = path.join(os.tmpdir(), `hashscan-${label.replace(/\W/g, "-")}-${randomBytes(4).toString("hex")}`);
  const port = await freePort();
  const database = "hashscan";
  const start = () => startEmbeddedPostgres({ dir, port, database });
  const { url } = await start();
  await migrateDatabase(url);
  const db = createDb(url, { max: 5 });
  const sql = postgres(url, { max: 2, onnotice: () => {} });

  const pidFile = path.join(dir, "postmaster.pid");
  async function stopServer(mode: ShutdownMode) {
    if (!fs.existsSync(pidFile)) return;
    const pid = Number(fs.readFileSync(pidFile, "utf8").split("\n")[0]);
    // The postmaster's signals for pg_ctl's modes (PostgreSQL's "Shutting Down the Server").
    process.kill(pid, mode === "fast" ? "SIGINT" : "SIGQUIT");
    // Gone when it has removed its pid file, as pg_ctl waits for (the pid may linger as an unreaped zombie).
    const deadline = Date.now() + 60_000;
    while (fs.existsSync(pidFile) || (await isListening(port))) {
      if (Date.now() > deadline) throw new Error(`PostgreSQL on port ${port} did not stop within 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  return {
    url,
    db,
    sql,
    port,
    dir,
    stopServer,
    startServer: async () => void (await start()),
    async drop() {
      await db.$client.end({ timeout: 5 });
      await sql.end({ timeout: 5 });
      await stopServer("fast");
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A random port of the range that nothing listens on (a random start, so that two runs rarely pick the same). */
async function freePort(): Promise<number> {
  const size = PORTS.last - PORTS.first + 1;
  const offset = Math.floor(Math.random() * size);
  for (let i = 0; i < size; i++) {
    const port = PORTS.first + ((offset + i) % size);
    if (!(await isListening(port))) return port;
  }
  throw new Error(`No free port between ${PORTS.first} and ${PORTS.last}`);
}
