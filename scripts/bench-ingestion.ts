// The ingestion part of `npm run bench` (`--only ingestion`): `POST /api/jobs` of N distinct SHA-256 hashes to the
// production web process, timed until its 201 (the job, every task and every queue row committed in one
// transaction), against its floor on the same server in the same run: a COPY of N rows of the same columns into a
// plain table (no index, no constraint, no trigger) plus one add_jobs of N keyed no-op jobs, in one transaction.
// Real and floor runs alternate, and each run starts from the same database (the last run's rows deleted, then
// VACUUM ANALYZE, as autovacuum would), so that the ratio holds on a noisy machine where absolute times do not.
// `breakdown` times each statement of the creation transaction, as lib/jobs/create.ts runs them, in this process.
import { once } from "node:events";
import { finished } from "node:stream/promises";
import type postgres from "postgres";
import { assertWithinClientLimits } from "../lib/access/client-limits";
import { createDb, type Db } from "../lib/db/client";
import { countSavedRequests } from "../lib/db/queries/budget";
import { lockClient, placeInLine } from "../lib/db/queries/clients";
import { insertJob, setQueuePlace } from "../lib/db/queries/jobs";
import { enqueueLookups } from "../lib/db/queries/queue";
import { completeTasksFromCache, copyTasks, countPendingTasks, markTasksNotFoundFromCache, pendingLookupsOfJob } from "../lib/db/queries/tasks";
import { parseUploadText, TASK_COPY_COLUMNS } from "../lib/hashes/upload";
import { newJobId } from "../lib/jobs/job-id";
import { LOOKUP_KEY_PREFIX, VT_FLAG } from "../lib/lookups/job";
import { check, figureOf, formatFigure, type Figure } from "./bench-stats";
import { processMemory, spawnChild, waitForHttp, webArgs } from "./processes";

/** A task identifier no worker runs: the floor's queue rows are added and never taken. */
export const NOOP_TASK = "bench_noop";
/** Per-client limits raised past what the runs submit, but still checked, as in production. */
const CLIENT_LIMITS = { CLIENT_JOBS_PER_HOUR: "100000", CLIENT_HASHES_PER_DAY: "1000000000" };
export const INGESTION_TARGET_RATIO = 1.5;

export interface IngestionSize {
  hashes: number;
  runs: number;
  megabytes: number;
  /** Seconds from sending the POST to its 201. */
  post: Figure;
  /** Seconds of the floor's transaction (COPY + add_jobs + commit). */
  floor: Figure;
  /** post ÷ floor, per run (each post with the floor run right after it), then their median. */
  ratio: Figure;
  webPeakMb: number | null;
}

export interface IngestionResult {
  sizes: IngestionSize[];
  /** Milliseconds per statement of the creation transaction, median over the runs (lib/jobs/create.ts's order). */
  breakdown: { hashes: number; runs: number; steps: Record<string, Figure> } | null;
}

/**
 * One add_jobs of a no-op job per hash, shaped as its lookup would be (key, payload, priority, run_at, flag), the
 * specs built in SQL from one text[] parameter: the cheapest way we found to hand add_jobs as many jobs (JSON specs
 * through json_populate_record or _recordset, sent with tx.json and a ::json cast, took 0.6–1 s more for 100,000).
 */
export async function addNoopJobs(driver: postgres.Sql | postgres.TransactionSql, hashes: readonly string[]) {
  await driver`
    select count(*) from graphile_worker.add_jobs(
      array(
        select row(
          ${NOOP_TASK}::text, json_build_object('hash', h), null, '2000-01-01T00:00:00Z'::timestamptz, 10::smallint,
          ${LOOKUP_KEY_PREFIX}::text || h, least(o - 1, 32767)::smallint, array[${VT_FLAG}::text]
        )::graphile_worker.job_spec
        from unnest(${hashes as string[]}::text[]) with ordinality u(h, o)
      ),
      true)`;
}

/** N distinct SHA-256 hashes, one per line, none shared with another tag's. */
export function sha256Lines(count: number, tag: string): string {
  const lines = new Array<string>(count);
  for (let i = 0; i < count; i++) lines[i] = `${tag}${i.toString(16).padStart(10, "0")}`.padEnd(64, "e");
  return lines.join("\n");
}

export async function benchIngestion(
  databaseUrl: string,
  port: number,
  sizes: { hashes: number; runs: number }[],
  breakdownRuns: number,
  log: (line: string) => void,
): Promise<IngestionResult> {
  const db = createDb(databaseUrl, { max: 2 });
  const driver = db.$client;
  try {
    await driver`create table if not exists bench_floor_tasks (job_id text, position int, line int, hash text, hash_type text)`;
    const results: IngestionSize[] = [];
    let tag = 0;
    for (const size of sizes) {
      // A fresh web process per size: its peak resident memory is that size's.
      const web = spawnChild("web-ingestion", webArgs("start", port), {
        env: { DATABASE_URL: databaseUrl, VT_API_KEY: "", NODE_ENV: "production", NEXT_DIST_DIR: "", ...CLIENT_LIMITS },
        onLine: () => {},
      });
      try {
        await waitForHttp(`http://127.0.0.1:${port}/api/status`, 60_000, web);
        const posts: number[] = [];
        const floors: number[] = [];
        let megabytes = 0;
        for (let run = 0; run < size.runs; run++) {
          const text = sha256Lines(size.hashes, (tag++).toString(16).padStart(3, "0"));
          megabytes = text.length / 1e6;
          const body = new TextEncoder().encode(text);
          await reset(db);
          const started = performance.now();
          const response = await fetch(`http://127.0.0.1:${port}/api/jobs`, { method: "POST", headers: { "content-type": "text/plain" }, body });
          const answer = (await response.json()) as { accepted?: number };
          posts.push((performance.now() - started) / 1000);
          if (response.status !== 201 || answer.accepted !== size.hashes) throw new Error(`ingestion: HTTP ${response.status} ${JSON.stringify(answer).slice(0, 300)}`);
          await reset(db);
          floors.push(await floorOnce(driver, body, size.hashes));
          log(`ingestion ${size.hashes.toLocaleString("en")}: run ${run + 1}: POST ${posts.at(-1)!.toFixed(2)} s, floor ${floors.at(-1)!.toFixed(2)} s`);
        }
        results.push({
          hashes: size.hashes,
          runs: size.runs,
          megabytes,
          post: figureOf(posts),
          floor: figureOf(floors),
          ratio: figureOf(posts.map((p, i) => p / floors[i])),
          webPeakMb: processMemory(web.process.pid!)?.peakMb ?? null,
        });
      } finally {
        await web.stop();
        await reset(db);
      }
    }
    const breakdown = breakdownRuns > 0 && sizes.length > 0 ? await breakdownOf(db, sizes[0].hashes, breakdownRuns) : null;
    return { sizes: results, breakdown };
  } finally {
    await reset(db).catch(() => {});
    await driver`drop table if exists bench_floor_tasks`;
    await db.$client.end({ timeout: 5 });
  }
}

/** Back to an empty database: the jobs (their tasks with them), every queue row, the floor's rows; then analyzed. */
async function reset(db: Db) {
  await db.$client`delete from jobs`;
  await db.$client`delete from graphile_worker._private_jobs`;
  await db.$client`delete from job_count_deltas`;
  await db.$client`truncate bench_floor_tasks`;
  await db.$client`vacuum analyze`;
}

/**
 * The floor, once: the rows the POST wrote as tasks, as a COPY into a plain table, and as many keyed no-op jobs
 * with the payload, priority, run_at and flag a lookup has, added by one add_jobs; one transaction, timed to its
 * commit. The body is parsed to rows here, before the clock starts: the floor is what the database must do.
 */
async function floorOnce(driver: postgres.Sql, body: Uint8Array, count: number): Promise<number> {
  const parsed = parseUploadText(new TextDecoder().decode(body), newJobId());
  const hashes = new TextDecoder().decode(body).split("\n");
  if (hashes.length !== count) throw new Error(`floor: ${hashes.length} hashes, not ${count}`);
  const started = performance.now();
  await driver.begin(async (tx) => {
    const copy = await tx`copy bench_floor_tasks (${tx(TASK_COPY_COLUMNS as unknown as string[])}) from stdin`.writable();
    for (const block of parsed.rows) if (!copy.write(block)) await once(copy, "drain");
    copy.end();
    await finished(copy);
    await addNoopJobs(tx, hashes);
  });
  return (performance.now() - started) / 1000;
}

/** Each statement of lib/jobs/create.ts's transaction, timed in this process on a job of `count` new hashes. */
async function breakdownOf(db: Db, count: number, runs: number) {
  const samples: Record<string, number[]> = {};
  const cache = { ttlHours: 24, sources: ["simulator" as const] };
  const client = "bench-client";
  for (let run = 0; run < runs; run++) {
    await reset(db);
    const text = sha256Lines(count, `b${run.toString(16).padStart(2, "0")}`);
    let last = performance.now();
    const step = (name: string) => {
      const now = performance.now();
      (samples[name] ??= []).push(now - last);
      last = now;
    };
    const parsed = parseUploadText(text, newJobId());
    step("parse (in a worker thread on the server)");
    await db.transaction(async (tx) => {
      step("begin");
      await lockClient(tx, client);
      await assertWithinClientLimits(tx, client, parsed.accepted, { jobsPerHour: 100_000, hashesPerDay: 1_000_000_000 });
      step("lockClient + client limits");
      await insertJob(tx, { id: parsed.jobId, clientId: client, name: null, total: parsed.accepted, duplicates: 0, invalidLines: [], invalidCount: 0 });
      step("insertJob");
      await copyTasks(tx, parsed.rows);
      step("copyTasks (COPY into tasks)");
      await completeTasksFromCache(tx, parsed.jobId, cache);
      step("completeTasksFromCache");
      await markTasksNotFoundFromCache(tx, parsed.jobId, cache.sources);
      step("markTasksNotFoundFromCache");
      const pending = await countPendingTasks(tx, parsed.jobId);
      step("countPendingTasks");
      const line = await placeInLine(tx, client, pending, parsed.jobId);
      step("placeInLine");
      const { queued, ...place } = await enqueueLookups(tx, pendingLookupsOfJob(parsed.jobId), 10, line);
      step("enqueueLookups (queue rows, inserted as add_jobs would write them)");
      await setQueuePlace(tx, parsed.jobId, place);
      await countSavedRequests(tx, "simulator", parsed.accepted - queued);
      step("setQueuePlace + countSavedRequests");
    });
    step("commit");
  }
  await reset(db);
  return { hashes: count, runs, steps: Object.fromEntries(Object.entries(samples).map(([name, ms]) => [name, figureOf(ms)])) };
}

/** The section of bench/results.md. */
export function ingestionReport(r: IngestionResult): string[] {
  const n = (x: number) => x.toLocaleString("en");
  return [
    `## Ingestion: \`POST /api/jobs\` of distinct SHA-256 hashes against its floor`,
    "",
    `Text/plain to the production web process (a fresh one per size), timed until its 201: the job, its tasks and its queue rows ` +
      `committed in one transaction. Floor, same server, alternating with it: a \`COPY\` of the same rows into a plain table (same ` +
      `columns, no index, no constraint, no trigger) and one \`add_jobs\` of as many keyed no-op jobs (\`${NOOP_TASK}\`, shaped as ` +
      `lookups), in one transaction. Each run starts from an emptied, analyzed database. Median of the runs (min–max). The ` +
      `creation itself writes its queue rows with one INSERT of the rows add_jobs would write (lib/db/queries/queue.ts), not ` +
      `through add_jobs: the floor's add_jobs is the standard way to do the same work.`,
    "",
    "| hashes | body | runs | POST → 201 | floor | ratio | target | web peak RSS |",
    "|---:|---:|---:|---:|---:|---:|---|---:|",
    ...r.sizes.map(
      (s) =>
        `| ${n(s.hashes)} | ${s.megabytes.toFixed(1)} MB | ${s.runs} | ${formatFigure(s.post, "s", 2)} | ${formatFigure(s.floor, "s", 2)} | ` +
        `${formatFigure(s.ratio, "×", 2)} | ${check(s.ratio.median <= INGESTION_TARGET_RATIO)} ≤ ${INGESTION_TARGET_RATIO} × | ${s.webPeakMb === null ? "–" : `${s.webPeakMb.toFixed(0)} MB`} |`,
    ),
    "",
    ...(r.breakdown
      ? [
          `Where a ${n(r.breakdown.hashes)}-hash creation spends its time: lib/jobs/create.ts's statements, timed one by one in the bench's ` +
            `own process (median of ${r.breakdown.runs}, min–max):`,
          "",
          "| step | time |",
          "|---|---:|",
          ...Object.entries(r.breakdown.steps).map(([step, f]) => `| ${step} | ${formatFigure(f, "ms", 0)} |`),
          "",
        ]
      : []),
  ];
}
