// `next build`, unless the build in .next was made from exactly the code there is now: a fingerprint of the
// sources the web app is built from is kept beside the build and compared on every start. The worker's bundle has a
// fingerprint of its own: a change to worker/ bundles it again (a second) without a next build.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { bundle } from "./build-bundles";
import { entryPoints, projectRoot, WEB_SERVER_FILE, WORKER_FILE } from "./processes";

const SOURCES = ["app", "lib", "scripts/web.ts", "next.config.mjs", "package-lock.json", "tsconfig.json", "postcss.config.mjs"];
const WORKER_SOURCES = ["worker", "lib", "package-lock.json", "tsconfig.json"];
const distDir = path.join(projectRoot, ".next");
const stampPath = path.join(distDir, "hashscan-sources.sha256");
const workerStampPath = path.join(distDir, "hashscan-worker-sources.sha256");

/** The web app's build and the worker's bundle, each unless it is up to date. */
export async function buildIfChanged(): Promise<void> {
  await buildWebIfChanged();
  await bundleWorkerIfChanged();
}

async function buildWebIfChanged(): Promise<void> {
  const fingerprint = fingerprintSources(SOURCES);
  const built =
    fs.existsSync(path.join(distDir, "BUILD_ID")) && fs.existsSync(path.join(distDir, WEB_SERVER_FILE)) && readStamp(stampPath) === fingerprint;
  if (built) {
    console.log("The production build is up to date with the code.");
    return;
  }
  console.log("Building the app (next build): the first run, or the code changed since the last build…");
  const { NEXT_DIST_DIR: _ignored, ...env } = process.env;
  const result = spawnSync(process.execPath, [entryPoints.next, "build"], { cwd: projectRoot, stdio: "inherit", env });
  if (result.status !== 0) throw new Error(`next build failed (exit ${result.status ?? result.signal})`);
  await bundle("web", distDir);
  fs.writeFileSync(stampPath, fingerprint);
}

/** The worker's bundle in .next, unless it was made from exactly the code there is now (next build empties .next). */
export async function bundleWorkerIfChanged(): Promise<void> {
  const fingerprint = fingerprintSources(WORKER_SOURCES);
  if (fs.existsSync(path.join(distDir, WORKER_FILE)) && readStamp(workerStampPath) === fingerprint) return;
  console.log("Bundling the worker: the first run, or its code changed since the last bundle…");
  await bundle("worker", distDir);
  fs.writeFileSync(workerStampPath, fingerprint);
}

function readStamp(file: string): string | null {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return null;
  }
}

/** SHA-256 over every source file's path and content, in a fixed order; tests are left out. */
function fingerprintSources(sources: string[]): string {
  const hash = createHash("sha256");
  const files = sources.flatMap((entry) => listFiles(path.join(projectRoot, entry))).sort();
  for (const file of files) {
    hash.update(path.relative(projectRoot, file)).update("\0").update(fs.readFileSync(file)).update("\0");
  }
  return hash.digest("hex");
}

function listFiles(target: string): string[] {
  if (!fs.existsSync(target)) return [];
  if (!fs.statSync(target).isDirectory()) return [target];
  return fs
    .readdirSync(target, { withFileTypes: true })
    .flatMap((entry) => {
      const full = path.join(target, entry.name);
      if (entry.isDirectory()) return listFiles(full);
      return /\.test\.tsx?$/.test(entry.name) ? [] : [full];
    });
}
