#!/usr/bin/env node
// The `hashscan` command (package.json's bin, linked by `npm link`): Node 20 runs no TypeScript, so tsx compiles
// cli/main.ts on the fly. It is told where tsconfig.json is, for its `@/` paths: on its own it would look in the
// directory the command is run from, which can be anywhere.
import { fileURLToPath } from "node:url";
import { register } from "tsx/esm/api";

register({ tsconfig: fileURLToPath(new URL("../tsconfig.json", import.meta.url)) });
await import("./main.ts");
