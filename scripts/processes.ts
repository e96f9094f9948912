// Child processes for `npm run dev` and the test suites: spawned with Node itself (no shell), output prefixed.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export const entryPoints = {
  tsx: require.resolve("tsx/cli"),
  next: require.resolve("next/dist/bin/next"),
  worker: path.join(projectRoot, "worker/index.ts"),
  simulator: path.join(projectRoot, "lib/virustotal/simulator/main.ts"),
  web: path.join(projectRoot, "scripts/web.ts"),
  healthcheck: path.join(projectRoot, "worker/healthcheck.ts"),
};

/** scripts/web.ts bundled into the build folder (scripts/build-bundles.ts), so that the built app runs on node alone. */
export const WEB_SERVER_FILE = "web-server.mjs";
/** worker/index.ts bundled beside it, likewise. */
export const WORKER_FILE = "worker.mjs";
/** worker/healthcheck.ts, likewise: Docker runs it every 30 s in the worker's container. */
export const WORKER_HEALTHCHECK_FILE = "worker-healthcheck.mjs";

/** A bundle in the build folder (NEXT_DIST_DIR, as next build). */
function built(file: string): string {
  return path.join(projectRoot, process.env.NEXT_DIST_DIR || ".next", file);
}

/**
 * The arguments that run the web app (scripts/web.ts: Next behind our own HTTP server) in `mode` on `port`: the
 * built app from its bundle, development from the sources.
 */
export function webArgs(mode: "start" | "dev", port: number): string[] {
  return [...(mode === "start" ? [built(WEB_SERVER_FILE)] : [entryPoints.tsx, entryPoints.web]), mode, "-p", String(port)];
}

/**
 * Node's options for the built worker; package.json's `worker` and docker-compose.yml's worker command repeat them
 * (tests/integration/worker-bundle.test.ts checks that they agree). V8 sizes its heap by the machine's memory: with
 * several GB, it lets the old generation grow to four times what outlived the last full collection before collecting
 * again. The worker keeps about 20 MB alive, but at concurrency 8 some 50 KB of every lookup's objects (of 440 KB
 * allocated) outlive two scavenges and die soon after, so at 100 lookups a second the old generation reached 90 MB
 * between collections and the process 190 MB. Under a 512 MB ceiling V8 grows it by about 1.4 times instead: the old
 * generation stays near 30 MB (a full collection a second, under 10 ms of pause each), the process near 125 MB (134 MB
 * at the bench's peak), and the CPU a lookup takes did not change measurably. 512 MB is far above need: the largest
 * answer read is 16 MB (lib/virustotal/client.ts).
 */
export const WORKER_NODE_OPTIONS = ["--max-old-space-size=512"];

/** The arguments that run the worker: the built one from its bundle, development's from the sources under tsx. */
export function workerArgs(mode: "start" | "dev"): string[] {
  return mode === "start" ? [...WORKER_NODE_OPTIONS, built(WORKER_FILE)] : [entryPoints.tsx, entryPoints.worker];
}

export interface Child {
  name: string;
  process: ChildProcess;
  /** Resolves with the exit code (or the signal's name) when the process ends. */
  exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

export function spawnChild(
  name: string,
  args: string[],
  options: { env?: Record<string, string | undefined>; onLine?: (name: string, line: string) => void } = {},
): Child {
  const child = spawn(process.execPath, args, {
    cwd: projectRoot,
    env: { ...process.env, ...options.env } as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group: tsx runs the real program as a grandchild, and a signal must reach both.
    detached: true,
  });
  const onLine = options.onLine ?? ((n, line) => console.log(`[${n}] ${line}`));
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) readline.createInterface({ input: stream }).on("line", (line) => onLine(name, line));
  }
  const exited = new Promise<number | string>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown")),
  );
  return {
    name,
    process: child,
    exited,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      signalGroup(child, "SIGTERM");
      const timer = setTimeout(() => signalGroup(child, "SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals) {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // already gone
  }
}

export async function waitForHttp(url: string, timeoutMs: number, child?: Child): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitedEarly: number | string | undefined;
  void child?.exited.then((code) => (exitedEarly = code));
  while (Date.now() < deadline) {
    if (exitedEarly !== undefined) throw new Error(`${child?.name} exited (${exitedEarly}) before ${url} answered`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.status < 500) return;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s`);
}

/** A process's resident memory now and at its peak (VmHWM), from /proc (Linux); null where there is none. */
export function processMemory(pid: number): { rssMb: number; peakMb: number } | null {
  try {
    const status = fs.readFileSync(`/proc/${innermostPid(pid)}/status`, "utf8");
    const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
    return { rssMb: kb("VmRSS") / 1024, peakMb: kb("VmHWM") / 1024 };
  } catch {
    return null;
  }
}

/**
 * The program a spawned child really runs: tsx starts it as a child of its own, so follow first children down
 * (Linux's /proc). Memory read from the launcher would be the launcher's, about 50 MB whatever the server holds.
 */
export function innermostPid(pid: number): number {
  for (;;) {
    let children: number[];
    try {
      children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return pid;
    }
    if (children.length === 0) return pid;
    pid = children[0];
  }
}
