// Runs the whole app in the foreground until Ctrl-C: `npm start` (the production build) and `npm run dev`
// (hot reload) differ only in how the web app is served.
import { startStack } from "./stack";

export async function runStack(web: "dev" | "start") {
  const stack = await startStack({ web });
  console.log(`\nHashscan is running at ${stack.url}  (Ctrl-C stops everything)\n`);

  let stopping = false;
  async function shutdown(code: number) {
    if (stopping) return;
    stopping = true;
    await stack.stop();
    process.exit(code);
  }
  process.once("SIGINT", () => void shutdown(0));
  process.once("SIGTERM", () => void shutdown(0));
  // If any part dies, stop the rest rather than leave a half-working app.
  for (const child of stack.children) {
    void child.exited.then((code) => {
      if (!stopping) {
        console.error(`[${child.name}] exited (${code}); stopping.`);
        void shutdown(1);
      }
    });
  }
}
