// Bundles the build's Node programs into the build folder as plain JavaScript, run by node alone: the web server
// (scripts/web.ts), the worker (worker/index.ts) and the worker's healthcheck (worker/healthcheck.ts). Under tsx, its
// loader (a second V8 isolate on Node 20) added about 60 MB to every web process and 40 MB to every worker, and to
// every healthcheck a second process. Packages stay imports, resolved from node_modules (bundled,
// graphile-worker's config loader would bring TypeScript's 9 MB along, which it otherwise never loads).
//   tsx scripts/build-bundles.ts   (after next build; NEXT_DIST_DIR picks the build folder, as for next build)
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { entryPoints, projectRoot, WEB_SERVER_FILE, WORKER_FILE, WORKER_HEALTHCHECK_FILE } from "./processes";

const BUNDLES = {
  web: { entry: entryPoints.web, file: WEB_SERVER_FILE },
  worker: { entry: entryPoints.worker, file: WORKER_FILE },
  healthcheck: { entry: entryPoints.healthcheck, file: WORKER_HEALTHCHECK_FILE },
};

export async function bundle(name: keyof typeof BUNDLES, distDir: string): Promise<void> {
  const { entry, file } = BUNDLES[name];
  const { outputFiles } = await build({
    entryPoints: [entry],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    tsconfig: path.join(projectRoot, "tsconfig.json"),
    logLevel: "warning",
    write: false,
  });
  // Written whole, then renamed into place: a process starting from the bundle meanwhile (a second bench, a worker
  // restarting) reads the old one or the new one, never half of one.
  const outfile = path.join(distDir, file);
  fs.mkdirSync(distDir, { recursive: true });
  fs.writeFileSync(`${outfile}.${process.pid}.tmp`, outputFiles[0].contents);
  fs.renameSync(`${outfile}.${process.pid}.tmp`, outfile);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const distDir = path.join(projectRoot, process.env.NEXT_DIST_DIR || ".next");
  await Promise.all([bundle("web", distDir), bundle("worker", distDir), bundle("healthcheck", distDir)]);
}
