// `npm start`: everything a person needs, from a fresh clone, in one command, serving what users get: the
// production build, built on the first run and again only when the code has changed since.
import { buildIfChanged } from "./build-if-changed";
import { runStack } from "./run-stack";

await buildIfChanged();
await runStack("start");
