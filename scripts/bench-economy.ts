// The quota-economy part of `npm run bench` (`--only economy`): a mixed workload at VT_REQUESTS_PER_MINUTE (60) for
// `seconds` (180), against two real worker processes sharing the budget and the simulator holding them to the same
// limit (it answers 429 past it). Measured from the simulator's request log: requests ÷ distinct uncached files
// (1.00 exactly when no file is asked twice), 429s (none), the busiest 60-second window against the limit, and the
// rate used once the first window's burst is spent (at least 95 % of the limit).
//
// The workload, U = the limit × seconds ÷ 60 distinct files unknown to the cache, all by SHA-256:
// - at once, three jobs created together: A lists each of its files twice (repeats within a job), B shares half of
//   its files with A and C shares files with both (the same hashes in concurrent jobs, one queue row each);
// - a third of the way in, job D and, two thirds in, job E: the MD5 and SHA-1 of files whose report has arrived
//   (the simulator derives them from the SHA-256; our cache knows them from the report), those files' SHA-256 again
//   (cached), names still queued for the first jobs, and new files.
// Left out: two names of one file unknown to the cache asked at the same moment. Nothing can know they are one file
// before VirusTotal answers one of them, so each costs a request (VirusTotal's own answer is the only link).
import { createDb, type Db } from "../lib/db/client";
import { createJob } from "../lib/jobs/create";
import type { SimulatorRequest } from "../lib/virustotal/simulator/server";
import { busiestWindow } from "./bench-load";
import { check, notePeak, sleep, standInForAutovacuum, type Peaks } from "./bench-stats";
import { entryPoints, processMemory, spawnChild, waitForHttp, type Child } from "./processes";

export const ECONOMY_TARGET_RATE = 0.95;
const WORKERS = 2;
const WORKER_CONCURRENCY = 4;
const SIMULATOR_LATENCY_MS = 150;

export interface EconomySettings {
  seconds: number;
  perMinute: number;
}

export interface EconomyResult {
  settings: EconomySettings & { workers: number; concurrency: number; simulatorLatencyMs: number };
  jobs: { name: string; at: number; names: number; distinct: number }[];
  tasks: { total: number; fromCacheAtSubmission: number; byStatus: Record<string, number> };
  uncachedFiles: number;
  requests: number;
  requestsPerFile: number;
  refusals: number;
  statuses: Record<string, number>;
  busiestWindow: number;
  /** Requests after the first window's burst, per minute of their span, ÷ the limit; null when too few for it. */
  rateUsed: number | null;
  seconds: number;
  ok: boolean;
}

export async function benchEconomy(databaseUrl: string, port: number, settings: EconomySettings, peaks: Peaks, log: (line: string) => void): Promise<EconomyResult> {
  const db = createDb(databaseUrl, { max: 2 });
  const children: Child[] = [];
  const limit = String(settings.perMinute);
  try {
    const simulator = spawnChild("simulator", [entryPoints.tsx, entryPoints.simulator], {
      env: { SIMULATOR_HOST: "127.0.0.1", SIMULATOR_PORT: String(port), SIMULATOR_LATENCY_MS: String(SIMULATOR_LATENCY_MS), SIMULATOR_REQUESTS_PER_MINUTE: limit, SIMULATOR_REQUESTS_PER_DAY: "0" },
      onLine: () => {},
    });
    children.push(simulator);
    const simulatorBase = `http://127.0.0.1:${port}`;
    await waitForHttp(`${simulatorBase}/_simulator/health`, 30_000, simulator);
    const workers = Array.from({ length: WORKERS }, (_, i) =>
      spawnChild(`worker-${i}`, [entryPoints.tsx, entryPoints.worker], {
        env: { DATABASE_URL: databaseUrl, VT_API_KEY: "", SIMULATOR_URL: `${simulatorBase}/api/v3`, VT_REQUESTS_PER_MINUTE: limit, WORKER_CONCURRENCY: String(WORKER_CONCURRENCY) },
        onLine: () => {},
      }),
    );
    children.push(...workers);
    await sleep(5000); // the workers start (tsx, the pool, the first poll)

    const u = Math.max(10, Math.round((settings.perMinute * settings.seconds) / 60));
    const files = Array.from({ length: u }, (_, i) => `ec0${i.toString(16).padStart(8, "0")}`.padEnd(64, "c"));
    const part = (from: number, to: number) => files.slice(Math.floor(from * u), Math.floor(to * u));
    const jobs: EconomyResult["jobs"] = [];
    const origin = Date.now();
    const vacuum = standInForAutovacuum(db.$client);
    const submit = async (name: string, names: string[]) => {
      const job = await createJob(db, { hashes: names, name }, { cache: { ttlHours: 24, sources: ["simulator"] }, lookupMaxAttempts: 10, budget: "simulator" });
      jobs.push({ name, at: (Date.now() - origin) / 1000, names: names.length, distinct: job.accepted });
    };
    log(`economy: ${u} distinct uncached files over about ${settings.seconds} s at ${settings.perMinute} a minute`);
    await Promise.all([
      submit("A: each file twice", [...part(0, 0.5), ...part(0, 0.5)]),
      submit("B: half of it A's", part(0.25, 0.75)),
      submit("C: A's and B's", [...part(0.5, 0.6), ...part(0, 0.1)]),
    ]);
    // D and E: other names of files answered by then, those files again, names still queued, new files.
    const later = async (name: string, fresh: string[]) => {
      const answered = await db.$client<{ sha256: string; md5: string; sha1: string }[]>`
        select distinct sha256, md5, sha1 from tasks where status = 'completed' and sha256 is not null`;
      const queued = await db.$client<{ hash: string }[]>`select distinct hash from tasks where status = 'pending' limit 20`;
      await submit(name, [
        ...answered.flatMap((f, i) => (i % 2 === 0 ? [f.md5] : [f.sha1])),
        ...answered.slice(0, 10).flatMap((f) => [f.sha256, f.md5, f.sha1]),
        ...queued.map((q) => q.hash),
        ...fresh,
      ]);
    };
    await sleep(origin + (settings.seconds * 1000) / 3 - Date.now());
    await later("D: other names, cached, queued and new", part(0.75, 0.9));
    await sleep(origin + (settings.seconds * 2000) / 3 - Date.now());
    await later("E: other names, cached, queued and new", part(0.9, 1));
    // Every task final (or a generous bound: the report then shows what was left).
    const deadline = origin + settings.seconds * 3000 + 60_000;
    while (Date.now() < deadline) {
      const [{ n }] = await db.$client<{ n: number }[]>`select count(*)::int as n from tasks where status = 'pending'`;
      if (n === 0) break;
      await sleep(1000);
    }
    const seconds = (Date.now() - origin) / 1000;
    await vacuum.stop();
    for (const worker of workers) notePeak(peaks, "worker", processMemory(worker.process.pid!)?.peakMb);

    const requestLog = (await (await fetch(`${simulatorBase}/_simulator/requests`)).json()) as { requests: SimulatorRequest[] };
    const lookups = requestLog.requests.filter((r) => r.hash !== null);
    const times = lookups.map((r) => Date.parse(r.at)).sort((a, b) => a - b);
    const statuses: Record<string, number> = {};
    for (const r of lookups) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    const refusals = statuses["429"] ?? 0;
    const span = times.length > 1 ? (times[times.length - 1] - times[0]) / 1000 : 0;
    const afterBurst = times.length - settings.perMinute;
    const rateUsed = afterBurst > 0 && span > 60 ? (afterBurst / span) * 60 / settings.perMinute : null;
    const byStatus = Object.fromEntries(
      (await db.$client<{ status: string; n: number }[]>`select status, count(*)::int as n from tasks group by status order by status`).map((r) => [r.status, r.n]),
    );
    const [{ total }] = await db.$client<{ total: number }[]>`select count(*)::int as total from tasks`;
    const [{ saved }] = await db.$client<{ saved: number }[]>`select coalesce(sum(count), 0)::int as saved from vt_usage where period like 'saved:%'`;
    const requestsPerFile = lookups.length / u;
    const busiest = busiestWindow(times);
    return {
      settings: { ...settings, workers: WORKERS, concurrency: WORKER_CONCURRENCY, simulatorLatencyMs: SIMULATOR_LATENCY_MS },
      jobs,
      tasks: { total, fromCacheAtSubmission: saved, byStatus },
      uncachedFiles: u,
      requests: lookups.length,
      requestsPerFile,
      refusals,
      statuses,
      busiestWindow: busiest,
      rateUsed,
      seconds,
      ok: lookups.length === u && refusals === 0 && busiest <= settings.perMinute && (rateUsed === null || rateUsed >= ECONOMY_TARGET_RATE),
    };
  } finally {
    for (const child of children.reverse()) await child.stop();
    await db.$client.end({ timeout: 5 });
  }
}

/** The section of bench/results.md. */
export function economyReport(r: EconomyResult): string[] {
  const s = r.settings;
  const statuses = (counts: Record<string, number>) => Object.entries(counts).map(([k, v]) => `${k}: ${v}`).join(", ") || "–";
  return [
    `## Quota economy: a mixed workload at ${s.perMinute} requests a minute for ${s.seconds} s`,
    "",
    `${s.workers} worker processes (concurrency ${s.concurrency} each) share the budget; the simulator (${s.simulatorLatencyMs} ms a lookup) ` +
      `answers 429 past ${s.perMinute} requests in 60 s. ${r.uncachedFiles} distinct files unknown to the cache, by SHA-256: three jobs at once ` +
      `(repeats within a job, the same hashes in concurrent jobs), then two more with the MD5 and SHA-1 of files whose report had arrived, ` +
      `those files again (cached), names still queued, and new files. Left out: two names of one unknown file asked at the same moment ` +
      `(nothing can tell they are one file before VirusTotal answers one of them). One run.`,
    "",
    "| job | at | names | distinct |",
    "|---|---:|---:|---:|",
    ...r.jobs.map((j) => `| ${j.name} | ${j.at.toFixed(0)} s | ${j.names} | ${j.distinct} |`),
    "",
    "| measure | value | target |",
    "|---|---:|---|",
    `| requests ÷ distinct uncached files | ${r.requests} ÷ ${r.uncachedFiles} = ${r.requestsPerFile.toFixed(2)} | ${check(r.requests === r.uncachedFiles)} 1.00 exactly |`,
    `| simulator 429s | ${r.refusals} | ${check(r.refusals === 0)} 0 |`,
    `| busiest 60-second window | ${r.busiestWindow} of ${s.perMinute} | ${check(r.busiestWindow <= s.perMinute)} ≤ ${s.perMinute} |`,
    `| rate used after the first window's burst | ${r.rateUsed === null ? "– (run too short)" : `${(r.rateUsed * 100).toFixed(1)} %`} | ${r.rateUsed === null ? "–" : check(r.rateUsed >= ECONOMY_TARGET_RATE)} ≥ ${ECONOMY_TARGET_RATE * 100} % |`,
    "",
    `Tasks: ${r.tasks.total} (${statuses(r.tasks.byStatus)}); ${r.tasks.fromCacheAtSubmission} answered from the cache without a request; ` +
      `simulator answers ${statuses(r.statuses)}; every task final after ${r.seconds.toFixed(0)} s.`,
    "",
  ];
}
