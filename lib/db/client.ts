import postgres from "postgres";
import { drizzle } from "drizzle-orm/postgres-js";
import { databaseUrl } from "./url";
import * as schema from "./schema";

/**
 * Every connection's bounds. A statement may take up to 5 minutes: creating a million-hash job (one COPY, one
 * add_jobs) takes about a minute on a small machine. A transaction left idle between statements (a request that
 * died mid-transaction) is ended after 2 minutes. An export's cursor is one statement as long as its download, so
 * it lifts the first bound for itself (streamTasks) and is bounded by the export's own timeouts instead.
 */
export const SESSION_SETTINGS = { statement_timeout: 300_000, idle_in_transaction_session_timeout: 120_000 } as const;

/** The same bounds for a client that takes only a URL (graphile-worker's pool): as libpq's `options`. */
export function withSessionSettings(url: string): string {
  const withOptions = new URL(url);
  const flags = Object.entries(SESSION_SETTINGS).map(([name, value]) => `-c ${name}=${value}`);
  withOptions.searchParams.set("options", [withOptions.searchParams.get("options"), ...flags].filter(Boolean).join(" "));
  return withOptions.toString();
}

/** `bounded: false` for migrations only: building an index on a large table may take longer than any bound. */
export function createDb(url: string, options: { max?: number; bounded?: boolean } = {}) {
  const connection = options.bounded === false ? {} : { ...SESSION_SETTINGS };
  const client = postgres(url, { max: options.max ?? 10, onnotice: () => {}, connection });
  return drizzle(client, { schema });
}

export type Db = ReturnType<typeof createDb>;
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
/** What every query takes first: the shared pool, or a transaction inside it. */
export type Executor = Db | Tx;

/**
 * What a query written only for postgres.js (prepared statements) takes: any executor, or a postgres.js connection
 * of its own, such as a transaction's.
 */
export type SqlExecutor = Executor | postgres.Sql;

/**
 * The postgres.js connection under a pool or a transaction, for what Drizzle cannot say (COPY). A transaction's
 * lies behind Drizzle's session, an internal field: create-job.test.ts writes every job through it, so a Drizzle
 * upgrade that moves it fails there.
 */
export function driverOf(db: SqlExecutor): postgres.Sql {
  // postgres.js's connections are functions; Drizzle's pool and transactions are objects.
  if (typeof db === "function") return db;
  // The session first: were Drizzle ever to give a transaction `$client` too, it would be the pool's, not ours.
  const client = (db as unknown as { session?: { client?: postgres.Sql } }).session?.client;
  if (client) return client;
  if ("$client" in db) return db.$client;
  throw new Error("This Drizzle executor does not expose its postgres.js connection");
}

let shared: Db | undefined;

/** The process-wide pool, created on first use (never at import, so `next build` needs no database). */
export function getDb(): Db {
  shared ??= createDb(databaseUrl());
  return shared;
}
