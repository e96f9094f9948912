// The quota-economy part of `npm run bench` (`--only economy`): a mixed workload at VT_REQUESTS_PER_MINUTE (60),
// against two real worker processes sharing the budget and the simulator holding them to the same limit (it answers
// 429 past it). Measured from the simulator's request log (when each request arrived), vt_requests (when the engine
// granted it) and the workers' log (the wake times of lookups the window sent back to the queue): requests ÷ distinct
// uncached files (1.00 exactly when no file is asked twice), 429s (none), the busiest 60-second window against the
// limit, and the rate used while uncached work waited (slotReuse: at least 95 % of the limit).
//
// The workload, U = the limit × (seconds ÷ 60 + 1) distinct files unknown to the cache, all by SHA-256: a window more
// than the limit lets through in `seconds` (a window at once, then one a minute), so that files still wait when
// `seconds` have passed and the rate is never held back by a workload that ran dry.
// - at once, three jobs created together: A lists each of its files twice (repeats within a job), B shares half of
//   its files with A and C shares files with both (the same hashes in concurrent jobs, one queue row each);
// - a third of the way in, job D and, two thirds in, job E: the MD5 and SHA-1 of files whose report has arrived
//   (the simulator derives them from the SHA-256; our cache knows them from the report), those files' SHA-256 again
//   (cached), names still queued for the first jobs, and new files.
// Left out: two names of one file unknown to the cache asked at the same moment. Nothing can know they are one file
// before VirusTotal answers one of them, so each costs a request (VirusTotal's own answer is the only link).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { effectiveWindowMs } from "../lib/budget/limits";
import { createDb } from "../lib/db/client";
import { listLivePools } from "../lib/db/queries/worker-pools";
import { createJob } from "../lib/jobs/create";
import type { SimulatorRequest } from "../lib/virustotal/simulator/server";
import { busiestWindow } from "./bench-load";
import { check, notePeak, sleep, standInForAutovacuum, type Peaks } from "./bench-stats";
import { entryPoints, processMemory, spawnChild, waitForHttp, workerArgs, type Child } from "./processes";

export const ECONOMY_TARGET_RATE = 0.95;
const WORKERS = 2;
const WORKER_CONCURRENCY = 4;
const SIMULATOR_LATENCY_MS = 150;
/** VirusTotal's window (the simulator's); the engine claims against effectiveWindowMs, a second longer. */
const WINDOW_MS = 60_000;

export interface EconomySettings {
  seconds: number;
  perMinute: number;
}

/** [from, to) in epoch ms. */
type Span = [number, number];

/** How soon the window's slots were used again while work waited (slotReuse). */
export interface SlotReuse {
  /** Requests whose place in the window was taken again while work waited: the pairs measured. */
  pairs: number;
  /** The mean time from a request to the one that took its place in the window, in ms. */
  meanCycleMs: number;
  /** The window ÷ meanCycleMs: 1 when every slot is taken again the moment it leaves the window. */
  rate: number;
  /** How long a slot stood free: meanCycleMs − the window, and its spread over the pairs, in ms. */
  freeMs: { mean: number; p50: number; p90: number; max: number };
}

export interface EconomyResult {
  settings: EconomySettings & { workers: number; concurrency: number; simulatorLatencyMs: number };
  jobs: { name: string; at: number; names: number; distinct: number }[];
  tasks: { total: number; fromCacheAtSubmission: number; byStatus: Record<string, number> };
  uncachedFiles: number;
  /** Distinct uncached files the requests asked for, by any of their names. */
  filesAsked: number;
  requests: number;
  requestsPerFile: number;
  refusals: number;
  statuses: Record<string, number>;
  busiestWindow: number;
  /** From the first job's commit to the last request made while a file waited; spans: 1 unless the work ran dry. */
  waiting: { seconds: number; spans: number; requests: number };
  /** Slot reuse by arrival at the simulator, against its 60-s window, after the first window's requests: the target. */
  rateUsed: SlotReuse | null;
  /** The same by the engine's grant times (vt_requests) against the 61-s window it claims in: its own slack. */
  engine: SlotReuse | null;
  /** Time the engine's window had a slot free while work waited, once it had first filled; of `afterFirstWindow`. */
  freeWindow: { seconds: number; afterFirstWindow: number };
  /**
   * Of rateUsed's free time per slot, in ms: what passed between the slot freeing (by the engine's window) and the
   * wake time handed to the lookup that took it, when that lookup had been sent back to the queue by the window.
   */
  waitedForWakeTimeMs: number | null;
  /** The formula used before: requests after the first window's ÷ the time from the first to the last (while work waited). */
  plainRate: number | null;
  /** Where the raw times were written (the request log, the grants, the wake times), for a closer look. */
  trace: string;
  seconds: number;
  ok: boolean;
}

export async function benchEconomy(databaseUrl: string, port: number, settings: EconomySettings, peaks: Peaks, log: (line: string) => void): Promise<EconomyResult> {
  const db = createDb(databaseUrl, { max: 2 });
  const children: Child[] = [];
  const limit = String(settings.perMinute);
  // The workers' "lookup" lines that went back to the queue for the window, with the wake time they were handed.
  const wakeTimes: { hash: string; until: number; at: number }[] = [];
  const onWorkerLine = (_name: string, line: string) => {
    if (!line.includes('"waitingFor":"window"')) return;
    try {
      const entry = JSON.parse(line) as { event?: string; hash?: string; until?: string; time?: number };
      if (entry.event === "lookup" && entry.hash && entry.until) wakeTimes.push({ hash: entry.hash, until: Date.parse(entry.until), at: entry.time ?? Date.now() });
    } catch {
      // not a line of our logger's
    }
  };
  try {
    const simulator = spawnChild("simulator", [entryPoints.tsx, entryPoints.simulator], {
      env: { SIMULATOR_HOST: "127.0.0.1", SIMULATOR_PORT: String(port), SIMULATOR_LATENCY_MS: String(SIMULATOR_LATENCY_MS), SIMULATOR_REQUESTS_PER_MINUTE: limit, SIMULATOR_REQUESTS_PER_DAY: "0" },
      onLine: () => {},
    });
    children.push(simulator);
    const simulatorBase = `http://127.0.0.1:${port}`;
    await waitForHttp(`${simulatorBase}/_simulator/health`, 30_000, simulator);
    const workers = Array.from({ length: WORKERS }, (_, i) =>
      spawnChild(`worker-${i}`, workerArgs("start"), {
        env: { DATABASE_URL: databaseUrl, VT_API_KEY: "", SIMULATOR_URL: `${simulatorBase}/api/v3`, VT_REQUESTS_PER_MINUTE: limit, WORKER_CONCURRENCY: String(WORKER_CONCURRENCY) },
        onLine: onWorkerLine,
      }),
    );
    children.push(...workers);
    // Both pools registered (on a busy machine a start can take longer than a fixed wait), then their first poll.
    const ready = Date.now() + 60_000;
    while ((await listLivePools(db, 60)).length < WORKERS && Date.now() < ready) await sleep(250);
    await sleep(1000);

    const u = Math.max(10, Math.round(settings.perMinute * (settings.seconds / 60 + 1)));
    const files = Array.from({ length: u }, (_, i) => `ec0${i.toString(16).padStart(8, "0")}`.padEnd(64, "c"));
    const part = (from: number, to: number) => files.slice(Math.floor(from * u), Math.floor(to * u));
    // Every name a request may carry → its file; when each file's first job committed (the file waits from then).
    const fileOf = new Map(files.map((f) => [f, f]));
    const waitingFrom = new Map<string, number>();
    const jobs: EconomyResult["jobs"] = [];
    const origin = Date.now();
    const vacuum = standInForAutovacuum(db.$client);
    const submit = async (name: string, names: string[]) => {
      const job = await createJob(db, { hashes: names, name }, { cache: { ttlHours: 24, sources: ["simulator"] }, lookupMaxAttempts: 10, budget: "simulator" });
      const at = Date.now();
      for (const file of names.map((n) => fileOf.get(n))) if (file && !waitingFrom.has(file)) waitingFrom.set(file, at);
      jobs.push({ name, at: (at - origin) / 1000, names: names.length, distinct: job.accepted });
    };
    log(`economy: ${u} distinct uncached files at ${settings.perMinute} a minute, work waiting for at least ${settings.seconds} s`);
    await Promise.all([
      submit("A: each file twice", [...part(0, 0.5), ...part(0, 0.5)]),
      submit("B: half of it A's", part(0.25, 0.75)),
      submit("C: A's and B's", [...part(0.5, 0.6), ...part(0, 0.1)]),
    ]);
    // D and E: other names of files answered by then, those files again, names still queued, new files.
    const later = async (name: string, fresh: string[]) => {
      const answered = await db.$client<{ sha256: string; md5: string; sha1: string }[]>`
        select distinct sha256, md5, sha1 from tasks where status = 'completed' and sha256 is not null`;
      for (const f of answered) for (const n of [f.md5, f.sha1]) fileOf.set(n, f.sha256);
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
    const end = Date.now();
    await vacuum.stop();
    for (const worker of workers) notePeak(peaks, "worker", processMemory(worker.process.pid!)?.peakMb);

    const requestLog = (await (await fetch(`${simulatorBase}/_simulator/requests`)).json()) as { requests: SimulatorRequest[] };
    const lookups = requestLog.requests.filter((r) => r.hash !== null).map((r) => ({ ...r, ms: Date.parse(r.at) })).sort((a, b) => a.ms - b.ms);
    const times = lookups.map((r) => r.ms);
    // When the engine granted each request (vt_requests keeps them ten minutes at least: longer than the run).
    const grants = (await db.$client<{ at: number }[]>`
      select (extract(epoch from at) * 1000)::float8 as at from vt_requests where budget = 'simulator' order by at`).map((r) => r.at);
    const statuses: Record<string, number> = {};
    for (const r of lookups) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    const refusals = statuses["429"] ?? 0;
    const askedAt = new Map<string, number>();
    for (const r of lookups) {
      const file = fileOf.get(r.hash!.toLowerCase());
      if (file && !askedAt.has(file)) askedAt.set(file, r.ms);
    }

    // Work waits while some file has been submitted and not yet asked for.
    const spans = mergeSpans(files.map((f): Span => [waitingFrom.get(f) ?? end, askedAt.get(f) ?? end]));
    const during = (a: number, b: number) => spans.some(([from, to]) => a >= from && b <= to);
    const n = settings.perMinute;
    const engineWindowMs = engineWindow(n);
    const whileWaiting = times.filter((t) => during(t, t));
    // The wake time each request's lookup was last handed before it, if the window sent it back to the queue.
    const wokenAt = lookups.map((r) => wakeTimes.filter((w) => w.hash === r.hash && w.at <= r.ms).at(-1)?.until ?? null);
    const trace = path.join(os.tmpdir(), `hashscan-economy-${new Date(origin).toISOString().replace(/[:.]/g, "-")}.json`);
    fs.writeFileSync(trace, JSON.stringify({ origin, end, perMinute: n, spans, requests: lookups, grants, wakeTimes, waitingFrom: [...waitingFrom] }));
    log(`economy: raw times in ${trace}`);

    const byStatus = Object.fromEntries(
      (await db.$client<{ status: string; n: number }[]>`select status, count(*)::int as n from tasks group by status order by status`).map((r) => [r.status, r.n]),
    );
    const [{ total }] = await db.$client<{ total: number }[]>`select count(*)::int as total from tasks`;
    const [{ saved }] = await db.$client<{ saved: number }[]>`select coalesce(sum(count), 0)::int as saved from vt_usage where period like 'saved:%'`;
    const busiest = busiestWindow(times);
    const rateUsed = slotReuse(times, n, WINDOW_MS, during);
    const first = whileWaiting[0];
    const last = whileWaiting[whileWaiting.length - 1];
    return {
      settings: { ...settings, workers: WORKERS, concurrency: WORKER_CONCURRENCY, simulatorLatencyMs: SIMULATOR_LATENCY_MS },
      jobs,
      tasks: { total, fromCacheAtSubmission: saved, byStatus },
      uncachedFiles: u,
      filesAsked: askedAt.size,
      requests: lookups.length,
      requestsPerFile: lookups.length / Math.max(1, askedAt.size),
      refusals,
      statuses,
      busiestWindow: busiest,
      waiting: { seconds: spans.reduce((sum, [from, to]) => sum + to - from, 0) / 1000, spans: spans.length, requests: whileWaiting.length },
      rateUsed,
      engine: slotReuse(grants, n, engineWindowMs, during),
      freeWindow: freeWindowTime(grants, n, engineWindowMs, spans),
      waitedForWakeTimeMs: waitedForWakeTime(times, wokenAt, n, engineWindowMs, during),
      plainRate: whileWaiting.length > n && last - first > WINDOW_MS ? ((whileWaiting.length - n) / (last - first)) * (WINDOW_MS / n) : null,
      trace,
      seconds: (end - origin) / 1000,
      ok: lookups.length === u && askedAt.size === u && refusals === 0 && busiest <= n && rateUsed !== null && rateUsed.rate >= ECONOMY_TARGET_RATE,
    };
  } finally {
    for (const child of children.reverse()) await child.stop();
    await db.$client.end({ timeout: 5 });
  }
}

/** The window the engine claims in at this limit (lib/budget/limits.ts). */
function engineWindow(perMinute: number): number {
  return effectiveWindowMs({ perMinute, perDay: 0, perMonth: 0, windowSeconds: WINDOW_MS / 1000 });
}

function mergeSpans(spans: Span[]): Span[] {
  const merged: Span[] = [];
  for (const [from, to] of spans.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0])) {
    const tail = merged.at(-1);
    if (tail && from <= tail[1]) tail[1] = Math.max(tail[1], to);
    else merged.push([from, to]);
  }
  return merged;
}

/**
 * In a sliding window of `limit` requests, request i's place is taken by request i + limit, never sooner than
 * `windowMs` after it. Over the requests after the first window's `limit`, each with its successor made while work
 * waited throughout, the mean distance between the two is how long a slot took to be used again, and windowMs ÷ that
 * mean is the rate used: 100 % when every slot is taken again the moment it frees, whether the requests come in
 * bursts or evenly spaced and wherever the run starts or stops within a window. The first window's requests are
 * left out as starting points: they are the one-off allowance of a window that starts empty.
 */
function slotReuse(sorted: number[], limit: number, windowMs: number, during: (a: number, b: number) => boolean): SlotReuse | null {
  const cycles: number[] = [];
  for (let i = limit; i + limit < sorted.length; i++) if (during(sorted[i], sorted[i + limit])) cycles.push(sorted[i + limit] - sorted[i]);
  if (cycles.length === 0) return null;
  const meanCycleMs = cycles.reduce((sum, c) => sum + c, 0) / cycles.length;
  return { pairs: cycles.length, meanCycleMs, rate: windowMs / meanCycleMs, freeMs: { mean: meanCycleMs - windowMs, ...spread(cycles.map((c) => c - windowMs)) } };
}

/** slotReuse's pairs: the mean time between the slot freeing and the later wake time handed to the lookup that took it. */
function waitedForWakeTime(sorted: number[], wokenAt: (number | null)[], limit: number, windowMs: number, during: (a: number, b: number) => boolean): number | null {
  const waited: number[] = [];
  for (let i = limit; i + limit < sorted.length; i++) {
    if (!during(sorted[i], sorted[i + limit])) continue;
    const frees = sorted[i] + windowMs;
    const woken = wokenAt[i + limit];
    waited.push(woken === null ? 0 : Math.max(0, Math.min(woken, sorted[i + limit]) - frees));
  }
  return waited.length ? waited.reduce((sum, w) => sum + w, 0) / waited.length : null;
}

/** Seconds the window (of `limit` requests in `windowMs`, as the engine counts) held fewer than `limit` while work waited, once it had first filled. */
function freeWindowTime(grants: number[], limit: number, windowMs: number, spans: Span[]): EconomyResult["freeWindow"] {
  if (grants.length < limit) return { seconds: 0, afterFirstWindow: 0 };
  const events = [...grants.map((t) => [t, 1] as const), ...grants.map((t) => [t + windowMs, -1] as const)].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const since = grants[limit - 1];
  const clip = (a: number, b: number) => spans.reduce((sum, [from, to]) => sum + Math.max(0, Math.min(b, to) - Math.max(a, from, since)), 0);
  let inWindow = 0;
  let free = 0;
  for (let k = 0; k < events.length - 1; k++) {
    inWindow += events[k][1];
    if (inWindow < limit) free += clip(events[k][0], events[k + 1][0]);
  }
  return { seconds: free / 1000, afterFirstWindow: clip(since, Infinity) / 1000 };
}

function spread(values: number[]): { p50: number; p90: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { p50: at(0.5), p90: at(0.9), max: sorted[sorted.length - 1] ?? NaN };
}

/** The section of bench/results.md. */
export function economyReport(r: EconomyResult): string[] {
  const s = r.settings;
  const statuses = (counts: Record<string, number>) => Object.entries(counts).map(([k, v]) => `${k}: ${v}`).join(", ") || "–";
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const reuse = (x: SlotReuse | null) => (x === null ? "– (too short)" : `${pct(x.rate)} (a slot free ${sec(x.freeMs.mean)} a cycle; p50 ${sec(x.freeMs.p50)}, p90 ${sec(x.freeMs.p90)}, max ${sec(x.freeMs.max)})`);
  const engineCap = WINDOW_MS / engineWindow(s.perMinute);
  return [
    `## Quota economy: a mixed workload at ${s.perMinute} requests a minute, work waiting for at least ${s.seconds} s`,
    "",
    `${s.workers} worker processes (concurrency ${s.concurrency} each) share the budget; the simulator (${s.simulatorLatencyMs} ms a lookup) ` +
      `answers 429 past ${s.perMinute} requests in 60 s. ${r.uncachedFiles} distinct files unknown to the cache, by SHA-256, a window more than ` +
      `the limit lets through in ${s.seconds} s, so that work still waits then: three jobs at once ` +
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
    `| requests ÷ distinct uncached files asked (of ${r.uncachedFiles}) | ${r.requests} ÷ ${r.filesAsked} = ${r.requestsPerFile.toFixed(2)} | ${check(r.requests === r.filesAsked && r.filesAsked === r.uncachedFiles)} 1.00 exactly, every file asked |`,
    `| simulator 429s | ${r.refusals} | ${check(r.refusals === 0)} 0 |`,
    `| busiest 60-second window | ${r.busiestWindow} of ${s.perMinute} | ${check(r.busiestWindow <= s.perMinute)} ≤ ${s.perMinute} |`,
    `| rate used while work waited: 60 s ÷ the mean time a slot took to be used again | ${reuse(r.rateUsed)} | ${r.rateUsed ? check(r.rateUsed.rate >= ECONOMY_TARGET_RATE) : "–"} ≥ ${ECONOMY_TARGET_RATE * 100} % (most the engine can: ${pct(engineCap)}) |`,
    `| the same by the engine's grants, against the ${engineWindow(s.perMinute) / 1000} s it claims in | ${reuse(r.engine)} | – |`,
    `| time the engine's window had a slot free while work waited | ${r.freeWindow.seconds.toFixed(1)} s of ${r.freeWindow.afterFirstWindow.toFixed(1)} s after it first filled | – |`,
    `| of a slot's free time, waiting for the wake time handed to the lookup that took it | ${r.waitedForWakeTimeMs === null ? "–" : `${sec(r.waitedForWakeTimeMs)} a cycle`} | – |`,
    `| the formula before: requests after the first ${s.perMinute} ÷ the time from the first to the last | ${r.plainRate === null ? "–" : pct(r.plainRate)} | – |`,
    "",
    `Work waited ${r.waiting.seconds.toFixed(0)} s (from the first job's commit until the last file was asked for${r.waiting.spans > 1 ? `, in ${r.waiting.spans} spans: the workload ran dry between them` : ", without running dry"}). ` +
      `In a sliding window of ${s.perMinute} requests, request i's place is taken by request i + ${s.perMinute}, never sooner than 60 s after it: the rate used is ` +
      `60 s ÷ the mean of that distance, over the requests after the first window's ${s.perMinute} whose successor arrived while work still waited ` +
      `(${r.rateUsed?.pairs ?? 0} of them), by their arrival at the simulator. It is 100 % when every slot is taken again the moment it frees, ` +
      `in bursts or evenly spaced, wherever the run stops within a window; the engine claims in a window a second longer than VirusTotal's, so ` +
      `${pct(engineCap)} is its most.`,
    "",
    `Tasks: ${r.tasks.total} (${statuses(r.tasks.byStatus)}); ${r.tasks.fromCacheAtSubmission} answered from the cache without a request; ` +
      `simulator answers ${statuses(r.statuses)}; every task final after ${r.seconds.toFixed(0)} s.`,
    "",
  ];
}
