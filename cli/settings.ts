// The client's own environment: the one place under cli/ that reads process.env, and the one exception to
// lib/env.ts reading it all. The client runs on a user's machine, apart from the server, so the server's settings
// (DATABASE_URL, VT_API_KEY, …) are none of its business: it reads only HASHSCAN_* and npm's INIT_CWD.
import path from "node:path";
import type { Defaults } from "./args";

/** The environment's variables (a plain record: tests pass their own). */
export type Env = Record<string, string | undefined>;

export const DEFAULT_SERVER = "http://localhost:3000";

export function clientDefaults(env: Env = process.env): Defaults {
  return { server: env.HASHSCAN_URL || DEFAULT_SERVER, token: env.HASHSCAN_TOKEN || null };
}

/**
 * A FILE argument as the user meant it. `npm run hashscan -- submit hashes.txt` runs in the checkout's root, not
 * where the user typed it: npm says where that was in INIT_CWD. Only for our own script: a `hashscan` run by
 * another package's script means paths from that package's root, its working directory.
 */
export function resolveInputPath(file: string, env: Env = process.env, cwd = process.cwd()): string {
  const fromOurScript = env.npm_lifecycle_event === "hashscan" && env.npm_package_name === "hashscan" && env.INIT_CWD;
  return path.resolve(fromOurScript ? env.INIT_CWD! : cwd, file);
}
