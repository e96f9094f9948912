// The load part of `npm run bench`, or on its own: `tsx scripts/bench-load.ts [--load 200 --load-seconds 50 …]`.
// The app as deployed, on loopback, in a database of its own (load_<time>) on the bench's server: the web app's
// production build, the real worker, and the VirusTotal simulator holding the worker to the same per-minute limit
// the worker is given (it answers 429 past it). Submitters, each with an API token of its own (so each is a client
// of its own for the per-client limits), POST 10,000-hash text/plain jobs; pollers (autocannon) read those jobs'
// reports, half revalidating with If-None-Match, half taking the whole page each time. Measured: submit latency and
// acceptance, poll latency and statuses, errors (there must be none), the lookups made and the busiest 60-second
// window of the simulator's request log against the limit, the web process's memory, and a timeline in 5-second
// steps (polls answered and not, jobs created, lookups) to see what lines up with what.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import postgres from "postgres";
import { createDb } from "../lib/db/client";
import { migrateDatabase } from "../lib/db/migrate";
import { countQueuedLookups } from "../lib/db/queries/queue";
import type { SimulatorRequest } from "../lib/virustotal/simulator/server";
import { entryPoints, innermostPid, processMemory, spawnChild, waitForHttp, webArgs, workerArgs, type Child } from "./processes";

export const LOAD_OPTIONS = {
  /** Pollers; 0 skips the load section. */
  load: { type: "string", default: "200" },
  "load-submitters": { type: "string", default: "20" },
  "load-hashes": { type: "string", default: "10000" },
  /** Jobs per submitter: the first round before the pollers start, the next as they start, any others spread over their run. */
  "load-jobs": { type: "string", default: "2" },
  "load-seconds": { type: "string", default: "50" },
  "load-per-minute": { type: "string", default: "240" },
  /** Seconds between one poller's requests: the report page polls every 2 s. */
  "load-poll-every": { type: "string", default: "2" },
} as const;

export interface LoadSettings {
  pollers: number;
  submitters: number;
  hashesPerJob: number;
  jobsPerSubmitter: number;
  seconds: number;
  perMinute: number;
  pollEverySeconds: number;
}

export function loadSettings(values: Partial<Record<keyof typeof LOAD_OPTIONS, string | boolean | undefined>>): LoadSettings {
  const number = (key: keyof typeof LOAD_OPTIONS, min: number) => {
    const value = Number(values[key] ?? LOAD_OPTIONS[key].default);
    if (!Number.isInteger(value) || value < min) throw new Error(`--${key} must be a whole number, at least ${min}`);
    return value;
  };
  return {
    pollers: number("load", 0),
    submitters: number("load-submitters", 1),
    hashesPerJob: number("load-hashes", 10),
    jobsPerSubmitter: number("load-jobs", 1),
    seconds: number("load-seconds", 5),
    perMinute: number("load-per-minute", 1),
    pollEverySeconds: number("load-poll-every", 1),
  };
}

/** One line in ten of every job is the same in all the submitters' jobs of that round: the queue dedups them. */
const SHARED_FRACTION = 0.1;
/** The simulator's answer time (its default), so that lookups take as long as they would. */
const SIMULATOR_LATENCY_MS = 150;
const WORKER_CONCURRENCY = 4;
/** Raised far past what the run needs, but still checked on every submission (0 would skip the check). */
const CLIENT_LIMITS = { jobsPerHour: 1000, hashesPerDay: 100_000_000 };
/** The simulator's window, as VirusTotal's: a sliding 60 seconds (lib/virustotal/simulator/quota.ts). */
const WINDOW_MS = 60_000;
/** autocannon instances the pollers are split into, started this far apart within a second, so that their
 * connections' once-a-second timers do not all fire at the same moment. */
const POLLER_GROUPS = 10;
const POLL_TIMEOUT_SECONDS = 10;

export interface Latency {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface PollResult {
  name: string;
  connections: number;
  requests: number;
  perSecond: number;
  statuses: Record<string, number>;
  /** Answers other than 2xx and 3xx. */
  failed: number;
  /** Requests that got no answer: connection errors and timeouts (autocannon counts a timeout as an error too). */
  errors: number;
  timeouts: number;
  latency: Latency;
}

export interface SubmitRound {
  round: number;
  underPolling: boolean;
  jobs: number;
  created: number;
  statuses: Record<string, number>;
  latency: Latency;
  failures: string[];
}

export interface LoadResult {
  settings: LoadSettings;
  clientLimits: typeof CLIENT_LIMITS;
  workerConcurrency: number;
  simulatorLatencyMs: number;
  submissions: SubmitRound[];
  tasks: { total: number; distinctHashes: number; byStatus: Record<string, number>; waitingLookups: number };
  polls: PollResult[];
  virusTotal: {
    requests: number;
    statuses: Record<string, number>;
    rateRefusals: number;
    busiestWindow: number;
    limit: number;
    spanSeconds: number;
  };
  web: { rssMb: number; peakMb: number } | null;
  timeline: ReturnType<typeof timelineOf>;
  /** The server's autovacuum setting; when off, the seconds each stand-in VACUUM ANALYZE took. */
  autovacuum: string;
  vacuumSeconds: number[];
  /** Warning and error lines from the web app and the worker, by event (or message). */
  logProblems: Record<string, number>;
  errors: number;
  ok: boolean;
}

const log = (line: string) => console.log(`[bench-load] ${line}`);

export async function benchLoad(adminUrl: string, settings: LoadSettings, port = 3970): Promise<LoadResult> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  const dbName = `load_${Date.now()}`;
  await admin.unsafe(`create database ${dbName}`);
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;
  const databaseUrl = url.toString();
  const children: Child[] = [];
  const logProblems: Record<string, number> = {};
  const onLine = (name: string, line: string) => {
    const problem = problemIn(line);
    if (problem) logProblems[`${name}: ${problem}`] = (logProblems[`${name}: ${problem}`] ?? 0) + 1;
    if (problem && process.env.SHOW_LOAD_LOGS) console.log(`[${name}] ${line}`);
  };
  const db = createDb(databaseUrl, { max: 2 });
  try {
    await migrateDatabase(databaseUrl);
    const base = `http://127.0.0.1:${port}`;
    const simulatorBase = `http://127.0.0.1:${port + 1}`;
    const limit = String(settings.perMinute);
    const tokens = Array.from({ length: settings.submitters }, (_, i) => `load-client-${String(i).padStart(4, "0")}-token`);

    const simulator = spawnChild("simulator", [entryPoints.tsx, entryPoints.simulator], {
      env: {
        SIMULATOR_HOST: "127.0.0.1",
        SIMULATOR_PORT: String(port + 1),
        SIMULATOR_LATENCY_MS: String(SIMULATOR_LATENCY_MS),
        SIMULATOR_REQUESTS_PER_MINUTE: limit,
      },
      onLine,
    });
    children.push(simulator);
    await waitForHttp(`${simulatorBase}/_simulator/health`, 30_000, simulator);
    const common = { DATABASE_URL: databaseUrl, VT_API_KEY: "", SIMULATOR_URL: `${simulatorBase}/api/v3`, VT_REQUESTS_PER_MINUTE: limit };
    const workerEnv = { ...common, WORKER_CONCURRENCY: String(WORKER_CONCURRENCY) };
    children.push(spawnChild("worker", workerArgs("start"), { env: workerEnv, onLine }));
    const web = spawnChild("web", webArgs("start", port), {
      env: {
        ...common,
        NODE_ENV: "production",
        NEXT_DIST_DIR: "",
        API_TOKENS: tokens.join(","),
        CLIENT_JOBS_PER_HOUR: String(CLIENT_LIMITS.jobsPerHour),
        CLIENT_HASHES_PER_DAY: String(CLIENT_LIMITS.hashesPerDay),
      },
      onLine,
    });
    children.push(web);
    await waitForHttp(`${base}/api/status`, 60_000, web);
    const webPid = innermostPid(web.process.pid!);

    // Warm the routes without creating anything: an empty list is refused (400) after the token and limit checks.
    for (const token of tokens.slice(0, 2)) await post(base, token, "", "warm-up");
    const memory = sampleMemory(webPid);

    const createdAt: number[] = [];
    const bodies = (round: number) => tokens.map((_, submitter) => jobText(submitter, round, settings.hashesPerJob));
    const submitRound = async (round: number, underPolling: boolean): Promise<{ result: SubmitRound; ids: string[] }> => {
      const texts = bodies(round);
      const answers = await Promise.all(tokens.map((token, i) => post(base, token, texts[i], `load ${i}.${round}`)));
      const created = answers.filter((a) => a.status === 201 && a.accepted === settings.hashesPerJob);
      createdAt.push(...created.map((a) => a.doneAt));
      const result: SubmitRound = {
        round: round + 1,
        underPolling,
        jobs: answers.length,
        created: created.length,
        statuses: tally(answers.map((a) => String(a.status || a.error))),
        latency: latencyOf(answers.map((a) => a.ms)),
        failures: answers.filter((a) => !created.includes(a)).map((a) => `HTTP ${a.status}: ${a.error ?? a.body.slice(0, 200)}`),
      };
      return { result, ids: created.map((a) => a.id!) };
    };

    // A server with autovacuum off (a test server's setting) never analyzes the tables the rounds fill, and its
    // plans stay those of empty tables; production servers have it on. Stand in for it after each round.
    const [{ autovacuum }] = await db.$client<{ autovacuum: string }[]>`select current_setting('autovacuum') as autovacuum`;
    const vacuumSeconds: number[] = [];
    const afterRound = async () => {
      if (autovacuum !== "off") return;
      const started = performance.now();
      await db.$client`vacuum analyze`;
      vacuumSeconds.push((performance.now() - started) / 1000);
    };

    log(`${settings.submitters} submitters post ${settings.hashesPerJob.toLocaleString("en")}-hash jobs…`);
    const origin = Date.now();
    const first = await submitRound(0, false);
    if (first.ids.length === 0) throw new Error(`no job was created: ${first.result.failures.slice(0, 3).join("; ")}`);
    const submissions: SubmitRound[] = [first.result];
    await afterRound();

    log(`${settings.pollers} pollers read ${first.ids.length} reports for ${settings.seconds} s; VirusTotal: ${settings.perMinute} a minute`);
    const pollStart = Date.now();
    const polling = poll(base, first.ids, settings);
    // The other rounds spread over the polling, the first of them at once.
    for (let round = 1; round < settings.jobsPerSubmitter; round++) {
      await sleep(pollStart + (settings.seconds * 1000 * (round - 1)) / (settings.jobsPerSubmitter - 1) - Date.now());
      submissions.push((await submitRound(round, true)).result);
      await afterRound();
    }
    const { results: polls, answeredAt, unansweredAt } = await polling;
    const webMemory = memory.stop();

    const simulatorLog = (await (await fetch(`${simulatorBase}/_simulator/requests`)).json()) as { requests: SimulatorRequest[] };
    const lookups = simulatorLog.requests.filter((r) => r.hash !== null);
    const times = lookups.map((r) => Date.parse(r.at)).sort((a, b) => a - b);
    const statusCounts = await db.$client<{ status: string; count: number }[]>`
      select status, count(*)::int as count from tasks group by status order by status`;
    const byStatus = Object.fromEntries(statusCounts.map((r) => [r.status, r.count]));
    const [{ total, distinct }] = await db.$client<{ total: number; distinct: number }[]>`
      select count(*)::int as total, count(distinct hash)::int as distinct from tasks`;
    const virusTotal = {
      requests: lookups.length,
      statuses: tally(lookups.map((r) => String(r.status))),
      rateRefusals: lookups.filter((r) => r.status === 429).length,
      busiestWindow: busiestWindow(times),
      limit: settings.perMinute,
      spanSeconds: times.length ? (times[times.length - 1] - times[0]) / 1000 : 0,
    };
    const failedSubmissions = submissions.reduce((sum, r) => sum + r.jobs - r.created, 0);
    const errors = failedSubmissions + polls.reduce((sum, p) => sum + p.failed + p.errors, 0);
    return {
      settings,
      clientLimits: CLIENT_LIMITS,
      workerConcurrency: WORKER_CONCURRENCY,
      simulatorLatencyMs: SIMULATOR_LATENCY_MS,
      submissions,
      tasks: { total, distinctHashes: distinct, byStatus, waitingLookups: await countQueuedLookups(db) },
      polls,
      virusTotal,
      web: webMemory,
      timeline: timelineOf(origin, Date.now(), { polls: answeredAt, unanswered: unansweredAt, created: createdAt, lookups: times }),
      autovacuum,
      vacuumSeconds,
      logProblems,
      errors,
      ok: errors === 0 && virusTotal.rateRefusals === 0 && virusTotal.busiestWindow <= settings.perMinute,
    };
  } finally {
    for (const child of children.reverse()) await child.stop();
    await db.$client.end({ timeout: 5 });
    await admin.unsafe(`drop database if exists ${dbName} with (force)`);
    await admin.end();
  }
}

/** Submitter `submitter`'s job of round `round`: its first lines shared with every other submitter's that round. */
function jobText(submitter: number, round: number, count: number): string {
  const shared = Math.floor(count * SHARED_FRACTION);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    // `10ad…`: none of the simulator's special prefixes (dead, 503d, bad0); about one in ten is not found.
    const owner = i < shared ? "ffff" : submitter.toString(16).padStart(4, "0");
    lines.push(`10ad${owner}${round.toString(16).padStart(2, "0")}${i.toString(16).padStart(8, "0")}`.padEnd(64, "0"));
  }
  return lines.join("\n");
}

interface Posted {
  ms: number;
  status: number;
  body: string;
  doneAt: number;
  id?: string;
  accepted?: number;
  error?: string;
}

async function post(base: string, token: string, text: string, name: string): Promise<Posted> {
  const started = performance.now();
  try {
    const response = await fetch(`${base}/api/jobs?name=${encodeURIComponent(name)}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "text/plain" },
      body: text,
      signal: AbortSignal.timeout(120_000),
    });
    const body = await response.text();
    const ms = performance.now() - started;
    const answer = response.status === 201 ? (JSON.parse(body) as { id: string; accepted: number }) : undefined;
    return { ms, status: response.status, body, doneAt: Date.now(), id: answer?.id, accepted: answer?.accepted };
  } catch (error) {
    return { ms: performance.now() - started, status: 0, body: "", doneAt: Date.now(), error: (error as Error).message };
  }
}

/** The pollers: autocannon connections, each on one job's report (in turn over the jobs), half revalidating. */
interface Polled {
  results: PollResult[];
  answeredAt: { at: number; ms: number }[];
  unansweredAt: number[];
}

async function poll(base: string, jobIds: string[], settings: LoadSettings): Promise<Polled> {
  const groups = Math.min(POLLER_GROUPS, settings.pollers);
  let connection = 0;
  const runs = Array.from({ length: groups }, async (_, group) => {
    const revalidating = group % 2 === 0;
    const connections = Math.floor(settings.pollers / groups) + (group < settings.pollers % groups ? 1 : 0);
    await sleep((group * 1000) / groups);
    const samples: { status: number; ms: number; at: number }[] = [];
    const failures: number[] = [];
    let finished!: (result: autocannon.Result) => void;
    let failed!: (error: unknown) => void;
    const result = new Promise<autocannon.Result>((resolve, reject) => ((finished = resolve), (failed = reject)));
    const instance = autocannon({
      url: base,
      connections,
      duration: settings.seconds,
      // The group's pace as a whole (autocannon's connectionRate cannot go below one a second per connection).
      overallRate: Math.max(1, Math.round(connections / settings.pollEverySeconds)),
      timeout: POLL_TIMEOUT_SECONDS,
      setupClient(client) {
        client.setRequests([{ method: "GET", path: `/api/jobs/${jobIds[connection++ % jobIds.length]}` }]);
        if (!revalidating) return;
        // As the report page does: the ETag of the last 200 goes back as If-None-Match.
        let etag: string | undefined;
        let sent: string | undefined;
        client.on("headers", (info: unknown) => {
          const { statusCode, headers } = info as { statusCode: number; headers: string[] };
          if (statusCode !== 200) return;
          for (let i = 0; i < headers.length; i += 2) if (headers[i].toLowerCase() === "etag") etag = headers[i + 1];
        });
        client.on("response", () => {
          if (etag && etag !== sent) client.setHeaders({ "if-none-match": (sent = etag) });
        });
      },
    }, (error, result) => (error ? failed(error) : finished(result)));
    instance.on("response", (_client, status, _bytes, ms) => samples.push({ status, ms, at: Date.now() }));
    instance.on("reqError", () => failures.push(Date.now()));
    const { errors, timeouts } = await result;
    return { revalidating, connections, samples, failures, errors, timeouts };
  });
  const done = await Promise.all(runs);
  const results = [true, false].map((revalidating) => {
    const mine = done.filter((d) => d.revalidating === revalidating);
    const samples = mine.flatMap((d) => d.samples);
    // A response autocannon could not read a status from counts as a failure, named `none`.
    const statuses = tally(samples.map((s) => String(s.status ?? "none")));
    return {
      name: revalidating ? "revalidating (If-None-Match, as the page does)" : "full page every time",
      connections: mine.reduce((sum, d) => sum + d.connections, 0),
      requests: samples.length,
      perSecond: samples.length / settings.seconds,
      statuses,
      failed: samples.filter((s) => !(s.status >= 200 && s.status < 400)).length,
      errors: mine.reduce((sum, d) => sum + d.errors, 0),
      timeouts: mine.reduce((sum, d) => sum + d.timeouts, 0),
      latency: latencyOf(samples.map((s) => s.ms)),
    };
  });
  return { results, answeredAt: done.flatMap((d) => d.samples), unansweredAt: done.flatMap((d) => d.failures) };
}

/** Polls, polls without an answer, jobs created and lookups, per 5 seconds from `origin`: to see what lines up. */
interface Events {
  polls: { at: number; ms: number }[];
  unanswered: number[];
  created: number[];
  lookups: number[];
}

function timelineOf(origin: number, end: number, events: Events) {
  const STEP = 5000;
  return Array.from({ length: Math.ceil((end - origin) / STEP) }, (_, i) => {
    const within = (at: number) => at >= origin + i * STEP && at < origin + (i + 1) * STEP;
    const polls = events.polls.filter((p) => within(p.at));
    return {
      second: i * 5,
      polls: polls.length,
      pollP50: Math.round(latencyOf(polls.map((p) => p.ms)).p50) || null,
      unanswered: events.unanswered.filter(within).length,
      jobsCreated: events.created.filter(within).length,
      lookups: events.lookups.filter(within).length,
    };
  });
}

/** The most requests in any 60-second window, the simulator's rule: a request counts while it is under 60 s old. */
export function busiestWindow(sortedTimes: number[]): number {
  let busiest = 0;
  for (let i = 0, j = 0; i < sortedTimes.length; i++) {
    while (sortedTimes[i] - sortedTimes[j] >= WINDOW_MS) j++;
    busiest = Math.max(busiest, i - j + 1);
  }
  return busiest;
}

function latencyOf(values: number[]): Latency {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { count: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted[sorted.length - 1] ?? NaN };
}

function tally(keys: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const key of keys) counts[key] = (counts[key] ?? 0) + 1;
  return counts;
}

/** A warning or error in a child's output: pino's level 40 and up, by event, or a plain line that says error. */
function problemIn(line: string): string | null {
  if (line.startsWith("{")) {
    try {
      const entry = JSON.parse(line) as { level?: number; event?: string; code?: string; msg?: string };
      if ((entry.level ?? 0) < 40) return null;
      return [entry.event ?? entry.msg ?? "?", entry.code].filter(Boolean).join(" ");
    } catch {
      // not JSON after all
    }
  }
  return /error|deadlock|timeout/i.test(line) ? line.slice(0, 120) : null;
}

/** The web process's resident memory, sampled every second; its peak (VmHWM) read when stopped. */
function sampleMemory(pid: number) {
  let rssMb = 0;
  const timer = setInterval(() => (rssMb = Math.max(rssMb, processMemory(pid)?.rssMb ?? 0)), 1000).unref();
  return {
    stop() {
      clearInterval(timer);
      const now = processMemory(pid);
      return now ? { rssMb: Math.max(rssMb, now.rssMb), peakMb: now.peakMb } : null;
    },
  };
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** The section of bench/results.md. */
export function loadReport(r: LoadResult): string[] {
  const s = r.settings;
  const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(0)} ms` : "–");
  const n = (x: number) => x.toLocaleString("en");
  const statuses = (counts: Record<string, number>) =>
    Object.entries(counts)
      .map(([status, count]) => `${status}: ${n(count)}`)
      .join(", ") || "–";
  const check = (ok: boolean) => (ok ? "✓" : "✗");
  const vt = r.virusTotal;
  const problems = Object.entries(r.logProblems);
  return [
    `## Load: ${s.submitters} clients submitting ${n(s.hashesPerJob)}-hash jobs while ${s.pollers} clients poll their reports, ${s.seconds} s`,
    "",
    `On loopback: the production build with \`API_TOKENS\` of ${s.submitters} tokens, one per submitter (each a client of its own), and the ` +
      `per-client limits raised for the run (\`CLIENT_JOBS_PER_HOUR=${r.clientLimits.jobsPerHour}\`, \`CLIENT_HASHES_PER_DAY=${n(r.clientLimits.hashesPerDay)}\`); ` +
      `the real worker (concurrency ${r.workerConcurrency}) and the simulator (${r.simulatorLatencyMs} ms a lookup) both held to ` +
      `${s.perMinute} VirusTotal requests per 60 s, the simulator answering 429 past it. Each submitter posts ${s.jobsPerSubmitter} ` +
      `text/plain job${s.jobsPerSubmitter === 1 ? "" : "s"}, all at once per round, ${Math.round(SHARED_FRACTION * 100)}% of each job's hashes shared ` +
      `with the other submitters' jobs of its round. Pollers: autocannon, ${s.pollers} connections, each asking every ${s.pollEverySeconds} s as the report page ` +
      `does, on the first round's reports.` +
      (r.autovacuum === "off"
        ? ` Autovacuum is off on this server: a VACUUM ANALYZE ran after each round, as autovacuum would (${r.vacuumSeconds.map((x) => `${x.toFixed(1)} s`).join(", ")}).`
        : ""),
    "",
    "| submissions | jobs | created (201) | p50 | p95 | max |",
    "|---|---:|---:|---:|---:|---:|",
    ...r.submissions.map(
      (round) =>
        `| round ${round.round}, ${round.underPolling ? "while the pollers run" : "before the pollers start"} | ${round.jobs} | ${round.created} ${check(round.created === round.jobs)} | ${ms(round.latency.p50)} | ${ms(round.latency.p95)} | ${ms(round.latency.max)} |`,
    ),
    "",
    `Tasks: ${n(r.tasks.total)} (${n(r.tasks.distinctHashes)} distinct hashes); ${statuses(r.tasks.byStatus)}; ${n(r.tasks.waitingLookups)} lookups still queued.`,
    "",
    "| pollers | connections | requests | per second | statuses | other than 2xx/3xx | no answer (timed out) | p50 | p95 | p99 | max |",
    "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ...r.polls.map(
      (p) =>
        `| ${p.name} | ${p.connections} | ${n(p.requests)} | ${p.perSecond.toFixed(0)} | ${statuses(p.statuses)} | ${p.failed} ${check(p.failed === 0)} | ${p.errors} (${p.timeouts}) ${check(p.errors === 0)} | ${ms(p.latency.p50)} | ${ms(p.latency.p95)} | ${ms(p.latency.p99)} | ${ms(p.latency.max)} |`,
    ),
    "",
    `VirusTotal (the simulator's request log): ${n(vt.requests)} lookups over ${vt.spanSeconds.toFixed(0)} s (${statuses(vt.statuses)}); ` +
      `busiest 60-second window ${vt.busiestWindow} of ${vt.limit} allowed ${check(vt.busiestWindow <= vt.limit)}; ` +
      `${vt.rateRefusals} refused for rate (429) ${check(vt.rateRefusals === 0)}.`,
    "",
    r.web
      ? `Web process memory: ${r.web.rssMb.toFixed(0)} MB resident at most while sampled, peak ${r.web.peakMb.toFixed(0)} MB.`
      : "Web process memory: not readable here (no /proc).",
    "",
    "Every 5 s from the first submission: polls answered (their median time), polls not answered, jobs created, lookups made.",
    "",
    "| s | polls | median | not answered | jobs created | lookups |",
    "|---:|---:|---:|---:|---:|---:|",
    ...r.timeline.map((t) => `| ${t.second} | ${n(t.polls)} | ${t.pollP50 === null ? "–" : ms(t.pollP50)} | ${t.unanswered} | ${t.jobsCreated} | ${t.lookups} |`),
    "",
    `Errors: ${r.errors} ${check(r.errors === 0)} (submissions not created, poll answers other than 2xx/3xx, polls without an answer). ` +
      (problems.length ? `Warnings and errors logged: ${problems.map(([what, count]) => `${what} × ${count}`).join("; ")}.` : "Nothing logged at warning level or above."),
    "",
  ];
}

// On its own: a database server from DATABASE_URL (as `npm run bench` uses it), the production build, the report.
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const { values } = parseArgs({ options: { ...LOAD_OPTIONS, port: { type: "string", default: "3970" } } });
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) throw new Error("Set DATABASE_URL to a PostgreSQL server where the load test may create its database");
  const { buildIfChanged } = await import("./build-if-changed");
  await buildIfChanged();
  const result = await benchLoad(adminUrl, loadSettings(values), Number(values.port));
  console.log(`\n${loadReport(result).join("\n")}`);
  console.log(JSON.stringify(result, null, 2));
  if (!result.ok) process.exitCode = 1;
}
