// Runs the whole app in the foreground until Ctrl-C: `npm start` (the production build) and `npm run dev`
// (hot reload) differ only in how the web app is served.
import { startStack } from "./stack";

export async function runStack(web: "dev" | "start") {
  let stopping = false;
  let stack: Awaited<ReturnType<typeof startStack>> | undefined;
  async function shutdown(code: number) {
    if (stopping) return;
    stopping = true;
    await stack?.stop();
    process.exit(code);
  }
  // If any part dies, stop the rest rather than leave a half-working app.
  const onChildExit = (name: string, code: number | string) => {
    console.error(`[${name}] exited (${code}); stopping.`);
    void shutdown(1);
  };
  stack = await startStack({ web, onChildExit });
  console.log(`\nHashscan is running at ${stack.url}  (Ctrl-C stops everything)\n`);
  process.once("SIGINT", () => void shutdown(0));
  process.once("SIGTERM", () => void shutdown(0));
}
