// Reading a job's progress: counts, the current pause, an estimated completion, and one keyset page of results
// (or the rows changed since a change cursor). Every read costs the same at any job size: counts are kept by
// triggers, pages are index ranges, the queue is counted up to a cap.
import { requestBudget } from "@/lib/budget/identity";
import type { Db, Executor } from "@/lib/db/client";
import { getActivePause } from "@/lib/db/queries/budget";
import { readJobCounts, type JobCounts } from "@/lib/db/queries/job-counts";
import { findJob } from "@/lib/db/queries/jobs";
import { countLookupsAhead } from "@/lib/db/queries/queue";
import { readReportVersion, type ReportVersion } from "@/lib/db/queries/report-version";
import {
  listChangedTasks,
  listTaskPage,
  readChangeHorizon,
  type ChangeWindow,
  type TaskFilter,
  type TaskKey,
  type TaskOrder,
  type TaskRow,
} from "@/lib/db/queries/task-pages";
import type { Job } from "@/lib/db/schema";
import { env } from "@/lib/env";
import { AppError } from "@/lib/errors";
import { keyedTtlCache } from "@/lib/ttl-cache";
import { isJobId, toPauseJson, type JobReport, type JobResult, type JobStatus, type ReportFilter, type ReportQuery } from "./api-schema";

/** A report query as parsed from a request; sort defaults to position. */
export type ReportRequest = Omit<ReportQuery, "sort"> & { sort?: ReportQuery["sort"] };
import { estimateCompletion } from "./eta";
import { cachedUsage, perDb } from "./service-status";

/** Past this many lookups ahead, the ETA is a lower bound (at a free key's 500 a day, weeks away anyway). */
const LOOKUPS_AHEAD_CAP = 10_000;
/** Bumped when the report's JSON shape changes, so a cached body of the old shape is never revalidated. */
const REPORT_SHAPE = 2;

type Pause = Awaited<ReturnType<typeof getActivePause>>;

/** What a report's validator (ETag) is made of: the job's change version, its cancel, and the pause. */
export interface ReportState {
  counts: JobCounts;
  pause: Pause;
}

export async function readReportState(db: Executor, jobId: string): Promise<ReportState> {
  const [counts, pause] = await Promise.all([readJobCounts(db, jobId), getActivePause(db, requestBudget())]);
  return { counts, pause };
}

/** The ETag of a job's report as it stands, without reading the report: what a revalidating poll costs. Null when
 * there is no such job. */
export async function readReportEtag(db: Db, id: string): Promise<string | null> {
  if (!isJobId(id)) return null;
  const version = await readReportVersion(db, id, requestBudget());
  return version ? versionEtag(version) : null;
}

/**
 * A weak validator: the same while no task of the job was written, the job was not cancelled and the pause did not
 * change. The body's ETA and retry times drift with the clock and are deliberately left out.
 */
export function reportEtag(job: Job, state: ReportState): string {
  return versionEtag({ cancelled: job.cancelledAt !== null, changes: state.counts.changes, pause: state.pause });
}

function versionEtag({ cancelled, changes, pause }: ReportVersion): string {
  const paused = pause ? `${pause.until.getTime()}.${pause.cause}` : "none";
  return `W/"r${REPORT_SHAPE}.${env().vt.source}.${changes}.${cancelled ? "c" : "o"}.${paused}"`;
}

/** A report request checked and decoded: which rows, in which order, from where. */
export interface ReportPlan {
  limit: number;
  filter: TaskFilter;
  order: TaskOrder;
  after?: TaskKey;
  since?: SinceCursor;
}

/** Checks a request's cursors before anything is read: a bad one is a 400, whatever the job's state. */
export function planReport(query: ReportRequest): ReportPlan {
  const filter = toTaskFilter(query);
  const order = toTaskOrder(query);
  if (query.since !== undefined) {
    if (query.cursor !== undefined) throw new AppError("invalid_parameter", "cursor and since cannot be used together");
    const sorted = query.sort !== undefined && query.sort !== "position";
    const filtered = query.status || query.fortinet || query.minDetected || query.hash || sorted || query.order;
    // A row that leaves a filter would never be reported as changed: the feed is every changed row, filtered by its reader.
    if (filtered) throw new AppError("invalid_parameter", "since returns every changed row: it takes no filter, sort or order");
    return { limit: query.limit, filter: {}, order, since: decodeSinceCursor(query.since) };
  }
  return { limit: query.limit, filter, order, after: query.cursor === undefined ? undefined : decodePageCursor(query.cursor, order) };
}

/** The job, or null when there is none with this id (an id of the wrong shape is never queried). */
export async function findReportJob(db: Executor, id: string): Promise<Job | null> {
  return isJobId(id) ? ((await findJob(db, id)) ?? null) : null;
}

export async function getJobReport(db: Db, id: string, query: ReportRequest): Promise<JobReport | null> {
  return (await readJobReport(db, id, query))?.report ?? null;
}

/** The report of a job by its id, and its ETag; null when there is no such job (or it has expired). */
export async function readJobReport(db: Db, id: string, query: ReportRequest | ReportPlan): Promise<{ report: JobReport; etag: string } | null> {
  return isJobId(id) ? assembleReport(db, id, null, query) : null;
}

/** The report of a job already read (the report page reads it once for its own header too), and its ETag. */
export async function buildJobReport(db: Db, job: Job, query: ReportRequest | ReportPlan): Promise<{ report: JobReport; etag: string }> {
  return (await assembleReport(db, job.id, job, query))!;
}

async function assembleReport(db: Db, id: string, known: Job | null, query: ReportRequest | ReportPlan) {
  const plan = "filter" in query ? query : planReport(query);
  const { since, limit } = plan;

  // One snapshot for the job, its counts, the rows and the change horizon: read apart, a lookup settling between
  // them showed a job with nothing pending beside a row still pending, a cancel showed a job "completed", or a
  // change window missed a row. The reads are sent together (pipelined on the transaction's connection): a poll is
  // a few round trips, not one per read, which is most of what a poll costs the web process and the database.
  const snapshot = await db.transaction(
    async (tx) => {
      const [current, state, horizon, page] = await Promise.all([
        findJob(tx, id),
        readReportState(tx, id),
        readChangeHorizon(tx),
        since ? null : listTaskPage(tx, id, { filter: plan.filter, order: plan.order, after: plan.after, limit: limit + 1 }),
      ]);
      // No such job is a 404 whatever the cursor says (as when the job was read first): nothing more to read.
      if (!current && !known) return null;
      if (since && BigInt(since.from) > BigInt(horizon)) {
        throw new AppError("invalid_parameter", "since is not a changeCursor this API returned");
      }
      // A window ends at most at the horizon: no later transaction is known to have ended.
      const window: ChangeWindow | undefined = since && { from: since.from, to: minXid(since.to ?? horizon, horizon), after: since.after };
      const rows = window ? await listChangedTasks(tx, id, { window, limit: limit + 1 }) : page!;
      return { job: current ?? known, state, rows, horizon, window };
    },
    { isolationLevel: "repeatable read", accessMode: "read only" },
  );
  if (!snapshot?.job) return null;
  const { state, rows, horizon, window } = snapshot;
  const current = snapshot.job;
  const hasMore = rows.length > limit;
  const shown = hasMore ? rows.slice(0, limit) : rows;
  const last = shown[shown.length - 1];
  const { counts, pause } = state;

  // The next window starts where this one ends; while it has more rows than a response holds, it is paged.
  let next: SinceCursor = { from: window ? window.to : horizon };
  if (window && hasMore) next = { from: window.from, to: window.to, after: { xid: last.changedXid, position: last.position } };
  const eta = counts.pending > 0 ? await estimate(db, current, pause?.until ?? null) : null;

  const report: JobReport = {
    id: current.id,
    name: current.name,
    createdAt: current.createdAt.toISOString(),
    status: jobStatus(current, counts),
    source: env().vt.source,
    counts: {
      total: current.total,
      pending: counts.pending,
      completed: counts.completed,
      notFound: counts.notFound,
      failed: counts.failed,
      cancelled: counts.cancelled,
    },
    duplicates: current.duplicates,
    invalidCount: current.invalidCount,
    pause: toPauseJson(pause),
    estimatedCompletion: eta?.at?.toISOString() ?? null,
    estimateIsLowerBound: eta?.lowerBound ?? false,
    results: shown.map((row) => toResult(row, pause?.until ?? null)),
    nextCursor: !window && hasMore ? encodePageCursor(plan.order, last) : null,
    changeCursor: encodeSinceCursor(next),
    moreChanges: window !== undefined && hasMore,
  };
  return { report, etag: reportEtag(current, state) };
}

export function toTaskFilter(query: Partial<ReportFilter>): TaskFilter {
  return {
    statuses: query.status,
    fortinetDetected: query.fortinet === "detected",
    minDetected: query.minDetected,
    hashPrefix: query.hash,
  };
}

/** Position runs oldest first by default; detections and scan date, most and newest first. */
export function toTaskOrder(query: Partial<ReportFilter>): TaskOrder {
  const sort = query.sort ?? "position";
  const order = query.order ?? (sort === "position" ? "asc" : "desc");
  return { sort, descending: order === "desc" };
}

/**
 * Lookups ahead of a place in the queue, shared for two seconds by every poll of this process at that place: the
 * estimate is a guess anyway, and a freshly filled queue (no statistics yet) makes each count cost tens of ms.
 */
const lookupsAhead = perDb((db) =>
  keyedTtlCache(2000, 1000, (lastPriority: number) => countLookupsAhead(db, lastPriority, LOOKUPS_AHEAD_CAP)),
);

async function estimate(db: Db, job: Job, pausedUntil: Date | null): Promise<{ at: Date | null; lowerBound: boolean }> {
  const e = env();
  const [ahead, usage] = await Promise.all([lookupsAhead(db)(job.lastPriority), cachedUsage(db)]);
  const at = estimateCompletion({
    now: new Date(),
    lookupsAhead: ahead.count,
    pausedUntil,
    perMinute: e.vt.requestsPerMinute,
    windowSeconds: e.vt.windowSeconds,
    perDay: e.vt.requestsPerDay,
    usedToday: usage.today,
    perMonth: e.vt.requestsPerMonth,
    usedThisMonth: usage.thisMonth,
  });
  return { at, lowerBound: ahead.capped };
}

function jobStatus(job: Job, counts: JobCounts): JobStatus {
  if (counts.pending === 0) return job.cancelledAt ? "cancelled" : "completed";
  return counts.completed + counts.notFound + counts.failed === 0 ? "queued" : "running";
}

export function toResult(row: TaskRow, pausedUntil: Date | null): JobResult {
  const hasReport = row.status === "completed" && row.sha256 !== null;
  return {
    position: row.position,
    hash: row.hash,
    hashType: row.hashType,
    status: row.status,
    sha256: hasReport ? row.sha256 : row.hashType === "sha256" ? row.hash : null,
    md5: hasReport ? row.md5 : row.hashType === "md5" ? row.hash : null,
    sha1: hasReport ? row.sha1 : row.hashType === "sha1" ? row.hash : null,
    fortinet: hasReport ? row.fortinet : null,
    fortinetCategory: hasReport ? row.fortinetCategory : null,
    detected: hasReport ? row.detected : null,
    engines: hasReport ? row.engines : null,
    scanDate: hasReport ? row.scanDate : null,
    meaningfulName: hasReport ? row.meaningfulName : null,
    fileType: hasReport ? row.fileType : null,
    error: row.error,
    retryAt: row.status === "pending" ? upcoming(latest(row.retryAt ? new Date(row.retryAt) : null, pausedUntil)) : null,
  };
}

function latest(a: Date | null, b: Date | null): Date | null {
  if (!a) return b;
  if (!b) return a;
  return a > b ? a : b;
}

function upcoming(date: Date | null): string | null {
  return date && date.getTime() > Date.now() ? date.toISOString() : null;
}

function minXid(a: string, b: string): string {
  return BigInt(b) < BigInt(a) ? b : a;
}

/** A change cursor: the next window starts at `from`; while a window is paged, it also holds its end and place. */
interface SinceCursor {
  from: string;
  to?: string;
  after?: { xid: string; position: number };
}

// Cursors are opaque to clients: base64url of a short text. A page cursor names its sort, so it cannot be replayed
// under another one; a change cursor holds transaction ids. Every part is checked here, so that a forged cursor is
// a 400, never a database error.
function encodePageCursor(order: TaskOrder, row: TaskRow): string {
  return Buffer.from(`${order.sort}.${order.descending ? "d" : "a"}.${row.position}.${row.sortKey}`).toString("base64url");
}

const INT4_MAX = 2 ** 31 - 1;
const XID8_MAX = 2n ** 63n - 1n;

function decodePageCursor(cursor: string, order: TaskOrder): TaskKey {
  const bad = () => new AppError("invalid_parameter", "cursor is not one this API returned");
  const match = /^(position|detections|scanDate)\.([ad])\.(\d{1,10})\.(.{1,64})$/.exec(Buffer.from(cursor, "base64url").toString());
  if (!match) throw bad();
  if (match[1] !== order.sort || (match[2] === "d") !== order.descending) {
    throw new AppError("invalid_parameter", "cursor belongs to another sort order; start again without it");
  }
  const position = Number(match[3]);
  const key = match[4];
  if (position > INT4_MAX) throw bad();
  if (order.sort === "scanDate") {
    if (key !== "-infinity" && !isUtcMicros(key)) throw bad();
  } else if (!/^-?\d{1,10}$/.test(key) || Number(key) < -1 || Number(key) > INT4_MAX) {
    throw bad();
  }
  return { position, key };
}

/** "2025-01-31T12:00:00.000000Z", a real date from year 1 (PostgreSQL has no year 0). */
function isUtcMicros(text: string): boolean {
  const match = /^(\d{4})-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/.exec(text);
  if (!match || match[1] === "0000") return false;
  const date = new Date(`${text.slice(0, 23)}Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 19) === text.slice(0, 19);
}

function encodeSinceCursor(cursor: SinceCursor): string {
  const paging = cursor.to && cursor.after ? `.${cursor.to}.${cursor.after.xid}.${cursor.after.position}` : "";
  return Buffer.from(`c${cursor.from}${paging}`).toString("base64url");
}

function decodeSinceCursor(cursor: string): SinceCursor {
  const match = /^c(\d{1,19})(?:\.(\d{1,19})\.(\d{1,19})\.(\d{1,10}))?$/.exec(Buffer.from(cursor, "base64url").toString());
  const valid = match && [match[1], match[2], match[3]].every((x) => x === undefined || BigInt(x) <= XID8_MAX);
  if (!match || !valid || (match[4] !== undefined && Number(match[4]) > INT4_MAX)) {
    throw new AppError("invalid_parameter", "since is not a changeCursor this API returned");
  }
  if (match[2] === undefined) return { from: match[1] };
  return { from: match[1], to: match[2], after: { xid: match[3], position: Number(match[4]) } };
}
