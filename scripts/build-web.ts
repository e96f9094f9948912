// Bundles scripts/web.ts into the build folder as plain JavaScript, run by node alone: under tsx, its loader (a second
// V8 isolate on Node 20) added about 60 MB to every web process. Packages stay imports, resolved from node_modules.
//   tsx scripts/build-web.ts   (after next build; NEXT_DIST_DIR picks the build folder, as for next build)
import path from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { projectRoot, WEB_SERVER_FILE } from "./processes";

export async function bundleWebServer(distDir: string): Promise<void> {
  await build({
    entryPoints: [path.join(projectRoot, "scripts/web.ts")],
    outfile: path.join(distDir, WEB_SERVER_FILE),
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    tsconfig: path.join(projectRoot, "tsconfig.json"),
    logLevel: "warning",
  });
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await bundleWebServer(path.join(projectRoot, process.env.NEXT_DIST_DIR || ".next"));
}
