// A fresh, migrated database per test file, dropped afterwards. No mocks of our own database.
import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { inject } from "vitest";
import { createDb, type Db } from "../../../lib/db/client";
import { migrateDatabase } from "../../../lib/db/migrate";

export interface TestDatabase {
  url: string;
  db: Db;
  sql: postgres.Sql;
  drop(): Promise<void>;
}

export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const adminUrl = inject("adminDatabaseUrl");
  const name = `hashscan_test_${label.replace(/\W/g, "_")}_${randomBytes(4).toString("hex")}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  await migrateDatabase(url.toString());
  const db = createDb(url.toString(), { max: 5 });
  const sql = postgres(url.toString(), { max: 2, onnotice: () => {} });
  return {
    url: url.toString(),
    db,
    sql,
    async drop() {
      await db.$client.end({ timeout: 5 });
      await sql.end({ timeout: 5 });
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.end();
    },
  };
}
