// The client runs on a user's machine with none of the server's settings: it must not load the database modules or
// lib/env.ts (which reads the server's environment), however deep an import would bring them in.
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { expect, it } from "vitest";

it("the client's module graph holds no database module, no lib/env.ts and no server-only package", async () => {
  const result = await build({
    entryPoints: [fileURLToPath(new URL("./main.ts", import.meta.url))],
    absWorkingDir: fileURLToPath(new URL("..", import.meta.url)),
    bundle: true,
    write: false,
    metafile: true,
    platform: "node",
    format: "esm",
    logLevel: "silent",
  });
  const inputs = Object.keys(result.metafile.inputs);
  const ours = inputs.filter((input) => !input.startsWith("node_modules/"));
  expect(ours.filter((input) => /^lib\/(db|env)|^lib\/log|^app\/api\//.test(input))).toEqual([]);
  expect(inputs.filter((input) => /node_modules\/(postgres|drizzle-orm|graphile-worker|pino|next)\//.test(input))).toEqual([]);
  // What it does load of the project's code: the parser, the API's schemas and the shared formatting.
  expect(ours).toEqual(expect.arrayContaining(["lib/hashes/parse.ts", "lib/jobs/api-schema.ts"]));
});
