// The command-line client's entry point: `npm run hashscan -- …` runs it with tsx, the `hashscan` bin through
// cli/hashscan.mjs. Everything it does is in run.ts.
import { EXIT } from "./errors";
import { run } from "./run";

// Output piped into `head` that stops reading: nothing more to say, and no stack trace for it.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? EXIT.ok);
  throw error;
});

try {
  process.exitCode = await run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env });
} catch (error) {
  process.stderr.write(`hashscan: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = EXIT.error;
}
