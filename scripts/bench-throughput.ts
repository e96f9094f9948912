// The lookup-throughput part of `npm run bench` (`--only throughput`): N uncached hashes looked up by one real worker
// process, the production one (worker/index.ts bundled into .next/worker.mjs, which bench.ts brings up to date), at a
// stated concurrency against the simulator in a process of its own, every request limit raised out of the way, timed
// from the job's creation until every task is final. Floor, same run, same server: graphile-worker draining N no-op
// jobs at the same concurrency (scripts/bench-noop-worker.ts), timed from their add_jobs until the queue is empty.
// Then the same lookups with the simulator answering in `latencyMs`, against concurrency ÷ latency, the rate the
// worker could reach if only VirusTotal's answer took time.
import { createDb, type Db } from "../lib/db/client";
import { createJob } from "../lib/jobs/create";
import type { SimulatorRequest } from "../lib/virustotal/simulator/server";
import { addNoopJobs } from "./bench-ingestion";
import { check, figureOf, formatFigure, notePeak, sleep, standInForAutovacuum, type Figure, type Peaks } from "./bench-stats";
import { entryPoints, processMemory, spawnChild, waitForHttp, workerArgs, type Child } from "./processes";

export const THROUGHPUT_TARGET_RATIO = 0.33;
export const LATENCY_TARGET_RATIO = 0.8;
/** Out of the way: far more than any run can ask. */
const RAISED = { VT_REQUESTS_PER_MINUTE: "10000000", VT_REQUESTS_PER_DAY: "100000000", VT_REQUESTS_PER_MONTH: "1000000000" };

export interface ThroughputSettings {
  hashes: number;
  concurrency: number;
  runs: number;
  /** The second measurement's simulator latency; 0 skips it. */
  latencyMs: number;
}

export interface ThroughputResult {
  settings: ThroughputSettings;
  /** Lookups a second, no simulator latency. */
  lookups: Figure;
  /** No-op jobs a second. */
  noop: Figure;
  ratio: Figure;
  /** Lookups a second with the simulator answering in latencyMs, and the target's base: concurrency ÷ latency. */
  withLatency: { lookups: Figure; ideal: number; ratio: Figure } | null;
  /** Requests the simulator received per distinct hash, over every run (1 when no lookup asked twice). */
  requestsPerHash: number;
  errors: number;
}

export async function benchThroughput(
  databaseUrl: string,
  port: number,
  settings: ThroughputSettings,
  peaks: Peaks,
  log: (line: string) => void,
): Promise<ThroughputResult> {
  const db = createDb(databaseUrl, { max: 2 });
  const children: Child[] = [];
  let tag = 0;
  let requests = 0;
  let asked = 0;
  let errors = 0;
  try {
    const measure = async (latencyMs: number) => {
      const rates: number[] = [];
      const simulator = spawnChild("simulator", [entryPoints.tsx, entryPoints.simulator], {
        env: { SIMULATOR_HOST: "127.0.0.1", SIMULATOR_PORT: String(port), SIMULATOR_LATENCY_MS: String(latencyMs), SIMULATOR_REQUESTS_PER_MINUTE: "0", SIMULATOR_REQUESTS_PER_DAY: "0" },
        onLine: () => {},
      });
      children.push(simulator);
      const simulatorBase = `http://127.0.0.1:${port}`;
      await waitForHttp(`${simulatorBase}/_simulator/health`, 30_000, simulator);
      const worker = spawnChild("worker", workerArgs("start"), {
        env: { DATABASE_URL: databaseUrl, VT_API_KEY: "", SIMULATOR_URL: `${simulatorBase}/api/v3`, WORKER_CONCURRENCY: String(settings.concurrency), ...RAISED },
        onLine: (_name, line) => {
          if (/"level":(50|60)/.test(line)) errors += 1;
        },
      });
      children.push(worker);
      await waitForLine(worker, "worker_started");
      try {
        for (let run = 0; run < settings.runs; run++) {
          await reset(db);
          const hashes = uncachedHashes(settings.hashes, tag++);
          const started = performance.now();
          const { id } = await createJob(db, { hashes }, { cache: { ttlHours: 24, sources: ["simulator"] }, lookupMaxAttempts: 10 });
          const vacuum = standInForAutovacuum(db.$client);
          await until(async () => (await pendingOf(db, id)) === 0);
          await vacuum.stop();
          const seconds = (performance.now() - started) / 1000;
          rates.push(settings.hashes / seconds);
          asked += settings.hashes;
          log(`throughput (latency ${latencyMs} ms): run ${run + 1}: ${settings.hashes.toLocaleString("en")} lookups in ${seconds.toFixed(1)} s, ${rates.at(-1)!.toFixed(0)}/s`);
        }
        const log_ = (await (await fetch(`${simulatorBase}/_simulator/requests`)).json()) as { requests: SimulatorRequest[] };
        requests += log_.requests.filter((r) => r.hash !== null).length;
        notePeak(peaks, "worker", processMemory(worker.process.pid!)?.peakMb);
      } finally {
        await worker.stop();
        await simulator.stop();
      }
      return figureOf(rates);
    };

    const lookups = await measure(0);
    const noopRates: number[] = [];
    const noop = spawnChild("noop-worker", [entryPoints.tsx, "scripts/bench-noop-worker.ts", databaseUrl, String(settings.concurrency)], { onLine: () => {} });
    children.push(noop);
    await waitForLine(noop, "noop worker started");
    try {
      for (let run = 0; run < settings.runs; run++) {
        await reset(db);
        const started = performance.now();
        await addNoopJobs(db.$client, uncachedHashes(settings.hashes, tag++));
        const vacuum = standInForAutovacuum(db.$client);
        await until(async () => (await queuedOf(db)) === 0);
        await vacuum.stop();
        const seconds = (performance.now() - started) / 1000;
        noopRates.push(settings.hashes / seconds);
        log(`throughput floor: run ${run + 1}: ${settings.hashes.toLocaleString("en")} no-op jobs in ${seconds.toFixed(1)} s, ${noopRates.at(-1)!.toFixed(0)}/s`);
      }
    } finally {
      await noop.stop();
    }
    const noopFigure = figureOf(noopRates);
    // Each run's lookups against the floor's median: the runs are not paired one to one.
    const ratio = figureOf(lookups.runs.map((rate) => rate / noopFigure.median));
    let withLatency: ThroughputResult["withLatency"] = null;
    if (settings.latencyMs > 0) {
      const rates = await measure(settings.latencyMs);
      const ideal = settings.concurrency / (settings.latencyMs / 1000);
      withLatency = { lookups: rates, ideal, ratio: figureOf(rates.runs.map((rate) => rate / ideal)) };
    }
    return { settings, lookups, noop: noopFigure, ratio, withLatency, requestsPerHash: requests / asked, errors };
  } finally {
    for (const child of children.reverse()) await child.stop();
    await reset(db).catch(() => {});
    await db.$client.end({ timeout: 5 });
  }
}

/** Hashes no earlier run asked, none of the simulator's special prefixes (`dead`, `503…`, `bad0`). */
function uncachedHashes(count: number, tag: number): string[] {
  return Array.from({ length: count }, (_, i) => `7a${tag.toString(16).padStart(4, "0")}${i.toString(16).padStart(10, "0")}`.padEnd(64, "7"));
}

async function pendingOf(db: Db, jobId: string): Promise<number> {
  const [row] = await db.$client<{ n: number }[]>`select count(*)::int as n from tasks where job_id = ${jobId} and status = 'pending'`;
  return row.n;
}

async function queuedOf(db: Db): Promise<number> {
  const [row] = await db.$client<{ n: number }[]>`select count(*)::int as n from graphile_worker._private_jobs`;
  return row.n;
}

async function reset(db: Db) {
  await db.$client`delete from jobs`;
  await db.$client`delete from graphile_worker._private_jobs`;
  await db.$client`delete from job_count_deltas`;
  await db.$client`vacuum analyze`;
}

async function until(done: () => Promise<boolean>, everyMs = 100) {
  while (!(await done())) await sleep(everyMs);
}

function waitForLine(child: Child, text: string, timeoutMs = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${child.name} did not say ${text} within ${timeoutMs / 1000} s`)), timeoutMs);
    const stream = child.process.stdout!;
    const onData = (chunk: Buffer) => {
      if (chunk.toString().includes(text)) {
        clearTimeout(timer);
        stream.off("data", onData);
        resolve();
      }
    };
    stream.on("data", onData);
    void child.exited.then((code) => reject(new Error(`${child.name} exited (${code}) before saying ${text}`)));
  });
}

/** The section of bench/results.md. */
export function throughputReport(r: ThroughputResult): string[] {
  const s = r.settings;
  const n = (x: number) => x.toLocaleString("en");
  return [
    `## Lookup throughput: ${n(s.hashes)} uncached hashes, one worker process at concurrency ${s.concurrency}`,
    "",
    `The real worker (worker/index.ts bundled, run by node as in production, \`WORKER_CONCURRENCY=${s.concurrency}\`) against the simulator in a process of its own, every ` +
      `request limit raised out of the way (\`VT_REQUESTS_PER_MINUTE\`, \`_PER_DAY\`, \`_PER_MONTH\`), timed from the job's creation ` +
      `until every task is final, with a VACUUM ANALYZE every 30 s where the server's autovacuum is off. Floor, same server: graphile-worker's \`run()\` with a no-op task at the same concurrency, timed from ` +
      `the \`add_jobs\` of ${n(s.hashes)} jobs until the queue is empty. Median of ${s.runs} runs (min–max).`,
    "",
    "| measure | rate | against | ratio | target |",
    "|---|---:|---:|---:|---|",
    `| lookups, simulator without latency | ${formatFigure(r.lookups, "/s", 0)} | no-op jobs ${formatFigure(r.noop, "/s", 0)} | ${formatFigure(r.ratio, "×", 2)} | ${check(r.ratio.median >= THROUGHPUT_TARGET_RATIO)} ≥ ${THROUGHPUT_TARGET_RATIO} × |`,
    ...(r.withLatency
      ? [
          `| lookups, simulator answering in ${s.latencyMs} ms | ${formatFigure(r.withLatency.lookups, "/s", 0)} | concurrency ÷ latency ${r.withLatency.ideal.toFixed(0)}/s | ${formatFigure(r.withLatency.ratio, "×", 2)} | ${check(r.withLatency.ratio.median >= LATENCY_TARGET_RATIO)} ≥ ${LATENCY_TARGET_RATIO} × |`,
        ]
      : []),
    "",
    `Requests the simulator received per hash looked up: ${r.requestsPerHash.toFixed(3)}; errors logged by the worker: ${r.errors}.`,
    "",
  ];
}
