// One PostgreSQL server for the integration suite: DATABASE_URL's when set, else an embedded one of its own.
// Every test file then creates a fresh database on it (graphile-worker's schema is per database).
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres } from "../../lib/db/embedded";

declare module "vitest" {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const configured = process.env.DATABASE_URL;
  if (configured) {
    project.provide("adminDatabaseUrl", configured);
    return;
  }
  const server = await startEmbeddedPostgres({ dir: "data/test-postgres", port: 54339, database: "postgres" });
  project.provide("adminDatabaseUrl", server.url);
  return () => server.stop();
}
