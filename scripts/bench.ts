// `npm run bench [-- --only reads,uploads,load,ingestion,throughput,economy --runs 3 …]`: each section against its
// floor or target, on the production build and against a database of the bench's own (DATABASE_URL's server if set,
// else an embedded PostgreSQL under data/bench-postgres):
// - reads: report reads under a team of viewers (`--viewers 50 --seconds 20 --big 1000000`), and exports;
// - uploads: a million hashes as text and as JSON (scripts/bench-uploads.ts; `--uploads 0` skips it);
// - load: the whole app under submitters and pollers (scripts/bench-load.ts, its options `--load-…`; `--load 0` skips it);
// - ingestion: POST /api/jobs against COPY + add_jobs (scripts/bench-ingestion.ts; `--ingest 100000`, `--ingest-big
//   1000000`, either 0 to skip);
// - throughput: lookups a second against graphile-worker's no-op rate (scripts/bench-throughput.ts; `--throughput
//   20000 --concurrency 8 --latency 50 --throughput-runs N`);
// - economy: VirusTotal requests per file and the rate used at 60 a minute (scripts/bench-economy.ts;
//   `--economy-seconds 180 --economy-per-minute 60`).
// `--port 3500` moves the ports its processes listen on (by default 3300 to 3330), so that two benches can run at once
// against DATABASE_URL's server (each in databases of its own; not on the embedded one, whose folder they would share).
// Each figure of the last three is the median of `--runs` runs with their min and max. Prints the sections it ran,
// and writes bench/results.md and bench/results.json with them in place of their last results (the others kept).
//
// Seeding: a 100,000-hash job and a 1,000,000-hash job, created as users create them (createJob: tasks and queue
// rows); six in ten of their tasks are then given a result in one UPDATE (as if looked up), so filters and sorts
// have something to find. While viewers poll, a writer settles two lookups a second in the 100,000-hash job and
// folds the counts as the worker does, so the report really changes under them.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { createDb } from "../lib/db/client";
import { startEmbeddedPostgres, type EmbeddedServer } from "../lib/db/embedded";
import { foldCountDeltas } from "../lib/db/queries/job-counts";
import { migrateDatabase } from "../lib/db/migrate";
import { createJob } from "../lib/jobs/create";
import { buildIfChanged, bundleWorkerIfChanged } from "./build-if-changed";
import { benchLoad, LOAD_OPTIONS, loadReport, loadSettings } from "./bench-load";
import { benchUploads, UPLOAD_TARGET_MB } from "./bench-uploads";
import { benchEconomy, economyReport } from "./bench-economy";
import { benchIngestion, ingestionReport } from "./bench-ingestion";
import { notePeak, type Peaks } from "./bench-stats";
import { benchThroughput, throughputReport } from "./bench-throughput";
import { processMemory, projectRoot, spawnChild, waitForHttp, webArgs } from "./processes";

const SECTIONS = ["reads", "uploads", "load", "ingestion", "throughput", "economy"] as const;

const { values } = parseArgs({
  options: {
    viewers: { type: "string", default: "50" },
    seconds: { type: "string", default: "20" },
    big: { type: "string", default: "1000000" },
    uploads: { type: "string", default: "1000000" },
    ...LOAD_OPTIONS,
    only: { type: "string", default: SECTIONS.join(",") },
    runs: { type: "string", default: "3" },
    ingest: { type: "string", default: "100000" },
    "ingest-big": { type: "string", default: "1000000" },
    throughput: { type: "string", default: "20000" },
    /** Runs of the throughput section: each takes minutes at 20,000 lookups. Default: --runs. */
    "throughput-runs": { type: "string" },
    concurrency: { type: "string", default: "8" },
    latency: { type: "string", default: "50" },
    "economy-seconds": { type: "string", default: "180" },
    "economy-per-minute": { type: "string", default: "60" },
    /** The first of the ports the bench's processes listen on (it uses up to 30 above it). */
    port: { type: "string", default: "3300" },
  },
});
const only = new Set(values.only!.split(",").map((name) => name.trim()).filter(Boolean));
for (const name of only) if (!(SECTIONS as readonly string[]).includes(name)) throw new Error(`--only: no section ${name}; the sections are ${SECTIONS.join(", ")}`);
const RUNS = Number(values.runs);
const VIEWERS = Number(values.viewers);
const SECONDS = Number(values.seconds);
const BIG = Number(values.big);
const UPLOAD_HASHES = Number(values.uploads);
const LOAD = loadSettings(values);
const POLL_MS = 2000; // the report page's interval
const PORT = Number(values.port);
const BASE = `http://127.0.0.1:${PORT}`;
const TARGET_MS = 50;
const WORKER_TARGET_MB = 150;

const log = (line: string) => console.log(`[bench] ${line}`);

// The database.
let server: EmbeddedServer | undefined;
const adminUrl = process.env.DATABASE_URL || (server = await startEmbeddedPostgres({ dir: "data/bench-postgres", port: 54369, database: "postgres" })).url;
const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
const dbName = `hashscan_bench_${Date.now()}`;
await admin.unsafe(`create database ${dbName}`);
const url = new URL(adminUrl);
url.pathname = `/${dbName}`;
await migrateDatabase(url.toString());
const db = createDb(url.toString(), { max: 4 });

async function seedJob(size: number, tag: string): Promise<string> {
  const started = Date.now();
  const hashes = Array.from({ length: size }, (_, i) => `${tag}${i.toString(16).padStart(32 - tag.length, "0")}`);
  const { id } = await createJob(db, { hashes, name: `bench ${size}` }, { cache: { ttlHours: 24, sources: ["simulator"] }, lookupMaxAttempts: 5 });
  await db.$client`
    update tasks set status = 'completed', md5 = hash, sha1 = left(md5(hash) || md5(hash), 40), sha256 = md5(hash) || md5(hash),
      source = 'simulator', detected = (hashtext(hash) & 65535) % 70, engines = 70,
      fortinet = case when (hashtext(hash) & 65535) % 70 > 20 then 'W32/Bench.' || position || '!tr' end,
      fortinet_category = case when (hashtext(hash) & 65535) % 70 > 20 then 'malicious' else 'undetected' end,
      scan_date = now() - ((hashtext(hash) & 65535) * interval '1 minute'), meaningful_name = 'sample.exe',
      file_type = 'Win32 EXE', updated_at = now(), changed_xid = pg_current_xact_id()
    where job_id = ${id} and position % 10 < 6`;
  while ((await foldCountDeltas(db)) > 0);
  log(`seeded a ${size.toLocaleString("en")}-task job in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return id;
}

log(`database ${dbName} on ${server ? "an embedded PostgreSQL" : "DATABASE_URL's server"}`);
// The sections that start the web app need the whole build; throughput needs the worker's bundle alone.
if ([...only].some((name) => name !== "economy" && name !== "throughput")) await buildIfChanged();
else if (only.has("throughput") || only.has("economy")) await bundleWorkerIfChanged();

interface Sample {
  ms: number;
  status: number;
}

function summarise(name: string, samples: Sample[]) {
  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return {
    name,
    requests: samples.length,
    notModified: samples.filter((s) => s.status === 304).length,
    p50: at(0.5),
    p95: at(0.95),
    max: sorted[sorted.length - 1],
  };
}

/** Report reads under VIEWERS pollers, one viewer of the big job, and whole-job exports. */
async function benchReads() {
  const jobId = await seedJob(100_000, "be");
  const bigId = BIG > 0 ? await seedJob(BIG, "bf") : null;
  await db.$client`vacuum analyze`;

  // The web app as users run it.
  const web = spawnChild("web", webArgs("start", PORT), {
    env: { DATABASE_URL: url.toString(), VT_API_KEY: "", NODE_ENV: "production", NEXT_DIST_DIR: "" },
    onLine: () => {},
  });
  await waitForHttp(`${BASE}/api/status`, 60_000, web);

  // The writer: two lookups a second settle in the 100,000-task job; counts folded every 2 s, as the worker does.
  let writing = true;
  const writer = (async () => {
    let settled = 0;
    let lastFold = Date.now();
    while (writing) {
      await db.$client`
        update tasks set status = 'not_found', updated_at = now(), changed_xid = pg_current_xact_id()
        where job_id = ${jobId} and position = (
          select position from tasks where job_id = ${jobId} and status = 'pending' order by position limit 1)`;
      settled += 1;
      if (Date.now() - lastFold > 2000) {
        await foldCountDeltas(db);
        lastFold = Date.now();
      }
      await sleep(500);
    }
    return settled;
  })();

  interface Answer {
    status: number;
    etag: string | null;
    body: string;
  }
  type Viewer = (previous?: Answer) => { path: string; headers?: Record<string, string> };

  /** `VIEWERS` pollers, each asking every POLL_MS for SECONDS; a viewer gives its next request from its last answer. */
  async function poll(name: string, makeViewer: () => Viewer) {
    const samples: Sample[] = [];
    const end = Date.now() + SECONDS * 1000;
    await Promise.all(
      Array.from({ length: VIEWERS }, async () => {
        const next = makeViewer();
        let previous: Answer | undefined;
        await sleep(Math.random() * POLL_MS);
        while (Date.now() < end) {
          const started = performance.now();
          const request = next(previous);
          const response = await fetch(BASE + request.path, { headers: request.headers });
          const body = await response.text();
          const ms = performance.now() - started;
          if (response.status !== 200 && response.status !== 304) throw new Error(`${name}: HTTP ${response.status} ${body}`);
          samples.push({ ms, status: response.status });
          previous = { status: response.status, etag: response.headers.get("etag"), body };
          await sleep(Math.max(0, POLL_MS - ms));
        }
      }),
    );
    return summarise(name, samples);
  }

  /** A viewer of one URL that revalidates with the ETag of its last 200, as the report page does. */
  const revalidating = (pathOf: string) => (): Viewer => {
    let etag: string | undefined;
    return (previous) => {
      if (previous?.status === 200) etag = previous.etag ?? undefined;
      return { path: pathOf, headers: etag ? { "if-none-match": etag } : undefined };
    };
  };

  async function json(pathOf: string) {
    const response = await fetch(BASE + pathOf);
    if (!response.ok) throw new Error(`${pathOf}: HTTP ${response.status}`);
    return response.json() as Promise<{ nextCursor: string | null; changeCursor: string }>;
  }

  // Warm the app (first requests compile nothing in production, but fill caches and the pool).
  for (let i = 0; i < 30; i++) await json(`/api/jobs/${jobId}?limit=100`);

  // A cursor 90,000 rows deep, walked as a client would.
  let deep: string | null = null;
  for (let i = 0; i < 90; i++) deep = (await json(`/api/jobs/${jobId}?limit=1000${deep ? `&cursor=${deep}` : ""}`)).nextCursor;

  const results = [];
  log(`${VIEWERS} viewers, each polling every ${POLL_MS / 1000} s for ${SECONDS} s per scenario`);
  results.push(await poll("first page, revalidating (as the page polls)", revalidating(`/api/jobs/${jobId}?limit=100`)));
  results.push(await poll("first page, full body every time", () => () => ({ path: `/api/jobs/${jobId}?limit=100` })));
  results.push(await poll("deep page (rows 90,001–90,100)", revalidating(`/api/jobs/${jobId}?limit=100&cursor=${deep}`)));
  results.push(
    await poll("filtered page (Fortinet detected, by detections)", revalidating(`/api/jobs/${jobId}?limit=100&fortinet=detected&sort=detections`)),
  );
  results.push(
    await poll("incremental poll (since the last changeCursor)", (): Viewer => {
      let since: string | undefined;
      return (previous) => {
        if (previous?.status === 200) since = (JSON.parse(previous.body) as { changeCursor: string }).changeCursor;
        return { path: `/api/jobs/${jobId}?limit=100${since ? `&since=${since}` : ""}` };
      };
    }),
  );
  results.push(await poll("service status (/api/status)", () => () => ({ path: "/api/status" })));
  if (bigId) {
    results.push(await poll(`${BIG.toLocaleString("en")}-task job, unchanged, revalidating`, revalidating(`/api/jobs/${bigId}?limit=100`)));
  }

  writing = false;
  const settled = await writer;

  const webMemory = () => processMemory(web.process.pid!);

  // Exports of the whole 100,000-task job, one after another, with the web process's memory around them.
  const exports: { format: string; seconds: number; megabytes: number; rows: number }[] = [];
  const memoryBefore = webMemory();
  for (const format of ["csv", "json", "ndjson"]) {
    const started = performance.now();
    const response = await fetch(`${BASE}/api/jobs/${jobId}/export?format=${format}`);
    let bytes = 0;
    let newlines = 0;
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      for (const byte of chunk) if (byte === 10) newlines += 1;
    }
    exports.push({ format, seconds: (performance.now() - started) / 1000, megabytes: bytes / 1e6, rows: format === "json" ? newlines - 2 : newlines - (format === "csv" ? 1 : 0) });
  }
  const memoryAfter = webMemory();

  // One viewer of the big job, one poll after another.
  const single = [];
  if (bigId) {
    for (const [name, query] of [
      ["1,000,000-task job: first page", "limit=100"],
      ["1,000,000-task job: Fortinet detected, by scan date", "limit=100&fortinet=detected&sort=scanDate"],
    ] as const) {
      const samples: Sample[] = [];
      for (let i = 0; i < 40; i++) {
        const started = performance.now();
        const response = await fetch(`${BASE}/api/jobs/${bigId}?${query}`);
        await response.arrayBuffer();
        samples.push({ ms: performance.now() - started, status: response.status });
      }
      single.push(summarise(name.replace("1,000,000", BIG.toLocaleString("en")), samples));
    }
  }

  await web.stop();
  return { results, single, exports, memoryBefore, memoryAfter, settled };
}

const peaks: Peaks = {};
const reads = only.has("reads") ? await benchReads() : null;
// Uploads, each on a fresh web process so that its peak memory is the upload's.
const uploads = only.has("uploads") && UPLOAD_HASHES > 0 ? await benchUploads(url.toString(), PORT + 1, UPLOAD_HASHES) : [];
for (const upload of uploads) notePeak(peaks, "web", upload.peakMb);
const load = only.has("load") && LOAD.pollers > 0 ? await benchLoad(adminUrl, LOAD, PORT + 2) : null;
notePeak(peaks, "web", load?.web?.peakMb);

await db.$client.end({ timeout: 5 });
await admin.unsafe(`drop database ${dbName} with (force)`);

/** A database of a section's own, on the bench's server, migrated, dropped after the section. */
async function withDatabase<T>(suffix: string, work: (databaseUrl: string) => Promise<T>): Promise<T> {
  const own = new URL(adminUrl);
  own.pathname = `/${dbName}_${suffix}`;
  await admin.unsafe(`create database ${dbName}_${suffix}`);
  try {
    await migrateDatabase(own.toString());
    return await work(own.toString());
  } finally {
    await admin.unsafe(`drop database if exists ${dbName}_${suffix} with (force)`);
  }
}

const ingestSizes = [Number(values.ingest), Number(values["ingest-big"])].filter((n) => n > 0);
const ingestion =
  only.has("ingestion") && ingestSizes.length > 0
    ? await withDatabase("ingestion", (databaseUrl) =>
        benchIngestion(
          databaseUrl,
          PORT + 10,
          // The million-hash size takes minutes a run: once.
          ingestSizes.map((hashes, i) => ({ hashes, runs: i === 0 ? RUNS : 1 })),
          RUNS,
          log,
        ),
      )
    : null;
for (const size of ingestion?.sizes ?? []) notePeak(peaks, "web", size.webPeakMb ?? undefined);
const throughputSettings = {
  hashes: Number(values.throughput),
  concurrency: Number(values.concurrency),
  runs: Number(values["throughput-runs"] ?? RUNS),
  latencyMs: Number(values.latency),
};
const throughput =
  only.has("throughput") && throughputSettings.hashes > 0
    ? await withDatabase("throughput", (databaseUrl) => benchThroughput(databaseUrl, PORT + 20, throughputSettings, peaks, log))
    : null;
const economySettings = { seconds: Number(values["economy-seconds"]), perMinute: Number(values["economy-per-minute"]) };
const economy =
  only.has("economy") && economySettings.seconds > 0
    ? await withDatabase("economy", (databaseUrl) => benchEconomy(databaseUrl, PORT + 30, economySettings, peaks, log))
    : null;

await admin.end();
await server?.stop();

// The report: each section's block replaces its last one in bench/results.{md,json}; the others are kept.
const ms = (x: number) => `${x.toFixed(1)} ms`;
const row = (r: ReturnType<typeof summarise>) =>
  `| ${r.name} | ${r.requests} | ${r.notModified} | ${ms(r.p50)} | ${ms(r.p95)} | ${ms(r.max)} | ${r.p95 <= TARGET_MS ? "✓" : "✗"} ≤ ${TARGET_MS} ms |`;
const machine = `${os.cpus().length} × ${os.cpus()[0]?.model.trim()} · Node ${process.version} · ${server ? "embedded PostgreSQL" : "PostgreSQL from DATABASE_URL"}`;
const at = new Date().toISOString();

interface Block {
  at: string;
  machine: string;
  markdown: string[];
  data: unknown;
}
const blocks: Partial<Record<(typeof SECTIONS)[number] | "memory", Block>> = {};
const block = (name: keyof typeof blocks, markdown: string[], data: unknown) => (blocks[name] = { at, machine, markdown, data });

if (reads) {
  const { results, single, exports, memoryBefore, memoryAfter, settled } = reads;
  notePeak(peaks, "web", memoryAfter?.peakMb);
  block(
    "reads",
    [
      `## Report reads: ${VIEWERS} viewers of a 100,000-task job, each polling every ${POLL_MS / 1000} s for ${SECONDS} s`,
      "",
      `While they polled, ${settled} lookups settled in the job (2 a second) and counts were folded every 2 s.`,
      "",
      "| scenario | requests | 304 | p50 | p95 | max | target (p95) |",
      "|---|---:|---:|---:|---:|---:|---|",
      ...results.map(row),
      "",
      ...(single.length
        ? [`## One viewer of a ${BIG.toLocaleString("en")}-task job, 40 polls in a row`, "", "| scenario | requests | 304 | p50 | p95 | max | target (p95) |", "|---|---:|---:|---:|---:|---:|---|", ...single.map(row), ""]
        : []),
      `## Export of the 100,000-task job, whole, one format after another`,
      "",
      "| format | rows | size | time |",
      "|---|---:|---:|---:|",
      ...exports.map((e) => `| ${e.format} | ${e.rows.toLocaleString("en")} | ${e.megabytes.toFixed(1)} MB | ${e.seconds.toFixed(1)} s |`),
      "",
      memoryBefore && memoryAfter
        ? `Web process memory: ${memoryBefore.rssMb.toFixed(0)} MB resident before the exports, ${memoryAfter.rssMb.toFixed(0)} MB after; peak over the whole run ${memoryAfter.peakMb.toFixed(0)} MB.`
        : "Web process memory: not readable here (no /proc).",
      "",
    ],
    { viewers: VIEWERS, seconds: SECONDS, targetMs: TARGET_MS, reads: results, bigJob: single, exports, memoryBefore, memoryAfter },
  );
  const missed = [...results, ...single].filter((r) => r.p95 > TARGET_MS);
  if (missed.length) log(`missed the target: ${missed.map((r) => r.name).join("; ")}`);
}
if (uploads.length) {
  block(
    "uploads",
    [
      `## Uploads, each to a fresh web process, while one client polls \`/api/status\` every 50 ms`,
      "",
      "| upload | size | accepted in | web peak RSS | polls under 100 ms | slowest poll |",
      "|---|---:|---:|---:|---:|---:|",
      ...uploads.map(
        (u) =>
          `| ${u.name} | ${u.megabytes.toFixed(1)} MB | ${u.seconds.toFixed(1)} s | ${u.peakMb.toFixed(0)} MB ${u.peakMb <= UPLOAD_TARGET_MB ? "✓" : "✗"} ≤ ${UPLOAD_TARGET_MB} MB | ${u.quickPolls} of ${u.polls} | ${u.slowestPollMs.toFixed(0)} ms |`,
      ),
      "",
    ],
    uploads,
  );
  const heavy = uploads.filter((u) => u.peakMb > UPLOAD_TARGET_MB);
  if (heavy.length) log(`over ${UPLOAD_TARGET_MB} MB: ${heavy.map((u) => u.name).join("; ")}`);
}
if (load) {
  block("load", loadReport(load), load);
  if (!load.ok) log("the load test had errors or went past the VirusTotal rate limit: see its section");
}
if (ingestion) block("ingestion", ingestionReport(ingestion), ingestion);
if (throughput) block("throughput", throughputReport(throughput), throughput);
if (economy) block("economy", economyReport(economy), economy);
if (Object.keys(peaks).length) {
  block(
    "memory",
    [
      `## Memory: peak resident set (VmHWM) of the processes of the sections run (${[...only].join(", ")})`,
      "",
      "| process | peak RSS | target |",
      "|---|---:|---|",
      ...Object.entries(peaks).map(([name, mb]) => `| ${name} | ${mb.toFixed(0)} MB | ${name === "worker" ? `${mb <= WORKER_TARGET_MB ? "✓" : "✗"} ≤ ${WORKER_TARGET_MB} MB` : "–"} |`),
      "",
    ],
    peaks,
  );
}

const resultsDir = path.join(projectRoot, "bench");
const jsonPath = path.join(resultsDir, "results.json");
fs.mkdirSync(resultsDir, { recursive: true });
const earlier = (fs.existsSync(jsonPath) ? JSON.parse(fs.readFileSync(jsonPath, "utf8")) : {}) as { sections?: typeof blocks };
// Results written before the sections had blocks of their own: the reads, uploads and load of one run, kept whole.
const kept: typeof blocks = earlier.sections ?? (fs.existsSync(path.join(resultsDir, "results.md"))
  ? { reads: { at: (earlier as { at?: string }).at ?? "", machine: "", markdown: fs.readFileSync(path.join(resultsDir, "results.md"), "utf8").split("\n").slice(4), data: earlier } }
  : {});
const merged = { ...kept, ...blocks };
const order = [...SECTIONS, "memory"] as const;
const lines = [
  `# Hashscan benchmark`,
  "",
  `Each section from its latest run (\`npm run bench -- --only …\`); the time and machine are under each heading.`,
  "",
  ...order.flatMap((name) => {
    const b = merged[name];
    if (!b) return [];
    const [heading, ...rest] = b.markdown;
    return [heading, "", `_${b.at}${b.machine ? ` · ${b.machine}` : ""}_`, ...rest];
  }),
];
const report = lines.join("\n");
console.log(`\n${order.filter((name) => blocks[name]).flatMap((name) => blocks[name]!.markdown).join("\n")}`);
fs.writeFileSync(path.join(resultsDir, "results.md"), `${report}\n`);
fs.writeFileSync(jsonPath, `${JSON.stringify({ at, sections: merged }, null, 2)}\n`);

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
