import postgres from "postgres";
import { drizzle } from "drizzle-orm/postgres-js";
import { databaseUrl } from "./url";
import * as schema from "./schema";

export function createDb(url: string, options: { max?: number } = {}) {
  const client = postgres(url, { max: options.max ?? 10, onnotice: () => {} });
  return drizzle(client, { schema });
}

export type Db = ReturnType<typeof createDb>;
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
/** What every query takes first: the shared pool, or a transaction inside it. */
export type Executor = Db | Tx;

/**
 * The postgres.js connection under a pool or a transaction, for what Drizzle cannot say (COPY). A transaction's
 * lies behind Drizzle's session, an internal field: create-job.test.ts writes every job through it, so a Drizzle
 * upgrade that moves it fails there.
 */
export function driverOf(db: Executor): postgres.Sql {
  if ("$client" in db) return db.$client;
  const client = (db as unknown as { session?: { client?: postgres.Sql } }).session?.client;
  if (!client) throw new Error("This Drizzle transaction does not expose its postgres.js connection");
  return client;
}

let shared: Db | undefined;

/** The process-wide pool, created on first use (never at import, so `next build` needs no database). */
export function getDb(): Db {
  shared ??= createDb(databaseUrl());
  return shared;
}
