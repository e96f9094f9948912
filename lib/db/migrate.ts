// Brings a database up to date: our tables (Drizzle migrations in drizzle/), then graphile-worker's schema.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import { Logger, runMigrations } from "graphile-worker";
import { createDb } from "./client";

const quietLogger = new Logger(() => () => {});
const migrationsFolder = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../drizzle");

export async function migrateDatabase(url: string): Promise<void> {
  const db = createDb(url, { max: 1, bounded: false });
  try {
    await migrate(db, { migrationsFolder });
  } finally {
    await db.$client.end();
  }
  await runMigrations({ connectionString: url, logger: quietLogger });
}
