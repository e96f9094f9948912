// The lookup-throughput floor of `npm run bench`: graphile-worker itself (the version the app runs, its run() with
// the app's pool settings) draining no-op jobs at a given concurrency. `tsx scripts/bench-noop-worker.ts <url>
// <concurrency>`; stops on SIGTERM.
import { Logger, run } from "graphile-worker";
import { withSessionSettings } from "../lib/db/client";
import { NOOP_TASK } from "./bench-ingestion";

const [url, concurrency] = process.argv.slice(2);
const runner = await run({
  connectionString: withSessionSettings(url),
  concurrency: Number(concurrency),
  pollInterval: 1000,
  noHandleSignals: true,
  logger: new Logger(() => () => {}),
  taskList: { [NOOP_TASK]: async () => {} },
});
console.log("noop worker started");
process.on("SIGTERM", () => void runner.stop());
await runner.promise;
