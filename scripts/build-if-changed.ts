// `next build`, unless the build in .next was made from exactly the code there is now: a fingerprint of the
// sources the web app is built from is kept beside the build and compared on every start.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { bundleWebServer } from "./build-web";
import { entryPoints, projectRoot, WEB_SERVER_FILE } from "./processes";

const SOURCES = ["app", "lib", "scripts/web.ts", "next.config.mjs", "package-lock.json", "tsconfig.json", "postcss.config.mjs"];
const distDir = path.join(projectRoot, ".next");
const stampPath = path.join(distDir, "hashscan-sources.sha256");

export async function buildIfChanged(): Promise<void> {
  const fingerprint = fingerprintSources();
  const built =
    fs.existsSync(path.join(distDir, "BUILD_ID")) && fs.existsSync(path.join(distDir, WEB_SERVER_FILE)) && readStamp() === fingerprint;
  if (built) {
    console.log("The production build is up to date with the code.");
    return;
  }
  console.log("Building the app (next build): the first run, or the code changed since the last build…");
  const { NEXT_DIST_DIR: _ignored, ...env } = process.env;
  const result = spawnSync(process.execPath, [entryPoints.next, "build"], { cwd: projectRoot, stdio: "inherit", env });
  if (result.status !== 0) throw new Error(`next build failed (exit ${result.status ?? result.signal})`);
  await bundleWebServer(distDir);
  fs.writeFileSync(stampPath, fingerprint);
}

function readStamp(): string | null {
  try {
    return fs.readFileSync(stampPath, "utf8");
  } catch {
    return null;
  }
}

/** SHA-256 over every source file's path and content, in a fixed order; tests are left out. */
function fingerprintSources(): string {
  const hash = createHash("sha256");
  const files = SOURCES.flatMap((entry) => listFiles(path.join(projectRoot, entry))).sort();
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
