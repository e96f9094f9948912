import { env } from "@/lib/env";

export const EMBEDDED_DATABASE = "hashscan";

/** The embedded server's URL for a database; `npm start` (or `npm run dev`) starts that server when DATABASE_URL is unset. */
export function embeddedDatabaseUrl(port: number, database = EMBEDDED_DATABASE): string {
  return `postgres://postgres:postgres@127.0.0.1:${port}/${database}`;
}

export function databaseUrl(): string {
  const e = env();
  return e.databaseUrl ?? embeddedDatabaseUrl(e.embeddedPostgres.port);
}
