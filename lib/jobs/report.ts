// Reading a job's progress: counts, the current pause, an estimated completion, and one keyset page of results
// (or the rows changed since a change cursor). Every read costs the same at any job size: counts are kept by
// triggers, pages are index ranges, the queue is counted up to a cap.
import { requestBudget } from "@/lib/budget/identity";
import type { Db, Executor } from "@/lib/db/client";
import { getActivePause } from "@/lib/db/queries/budget";
import { readJobCounts, type JobCounts } from "@/lib/db/queries/job-counts";
import { findJob } from "@/lib/db/queries/jobs";
import { countLookupsAhead } from "@/lib/db/queries/queue";
import {
  listChangedTasks,
  listTaskPage,
  readChangeHorizon,
  type ChangeCursor,
  type TaskFilter,
  type TaskOrder,
  type TaskRow,
} from "@/lib/db/queries/task-pages";
import type { Job } from "@/lib/db/schema";
import { env } from "@/lib/env";
import { AppError } from "@/lib/errors";
import { toPauseJson, type JobReport, type JobResult, type JobStatus, type ReportFilter, type ReportQuery } from "./api-schema";

/** A report query as parsed from a request; sort defaults to position. */
export type ReportRequest = Omit<ReportQuery, "sort"> & { sort?: ReportQuery["sort"] };
import { estimateCompletion } from "./eta";
import { cachedUsage } from "./service-status";

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

export async function readReportState(db: Executor, job: Job): Promise<ReportState> {
  const [counts, pause] = await Promise.all([readJobCounts(db, job.id), getActivePause(db, requestBudget())]);
  return { counts, pause };
}

/**
 * A weak validator: the same while no task of the job was written, the job was not cancelled and the pause did not
 * change. The body's ETA and retry times drift with the clock and are deliberately left out.
 */
export function reportEtag(job: Job, state: ReportState): string {
  const pause = state.pause ? `${state.pause.until.getTime()}.${state.pause.cause}` : "none";
  return `W/"r${REPORT_SHAPE}.${state.counts.changes}.${job.cancelledAt ? "c" : "o"}.${pause}"`;
}

export async function getJobReport(db: Db, id: string, query: ReportRequest): Promise<JobReport | null> {
  const job = await findJob(db, id);
  return job ? (await buildJobReport(db, job, query)).report : null;
}

/** The report of a job already read (the report page reads it once for its own header too), and its ETag. */
export async function buildJobReport(db: Db, job: Job, query: ReportRequest): Promise<{ report: JobReport; etag: string }> {
  const filter = toTaskFilter(query);
  const order = toTaskOrder(query);
  if (query.since !== undefined && query.cursor !== undefined) {
    throw new AppError("invalid_parameter", "cursor and since cannot be used together");
  }
  const since = query.since === undefined ? undefined : decodeChangeCursor(query.since);
  const after = query.cursor === undefined ? undefined : decodePageCursor(query.cursor, order);

  // One snapshot for the counts, the rows and the change horizon: read apart, a lookup settling between them
  // showed a job with nothing pending beside a row still pending, or let a change cursor skip a row.
  const { state, rows, horizon } = await db.transaction(
    async (tx) => {
      const state = await readReportState(tx, job);
      const rows = since
        ? await listChangedTasks(tx, job.id, { filter, since, limit: query.limit + 1 })
        : await listTaskPage(tx, job.id, { filter, order, after, limit: query.limit + 1 });
      return { state, rows, horizon: await readChangeHorizon(tx) };
    },
    { isolationLevel: "repeatable read", accessMode: "read only" },
  );
  const hasMore = rows.length > query.limit;
  const shown = hasMore ? rows.slice(0, query.limit) : rows;
  const last = shown[shown.length - 1];
  const { counts, pause } = state;

  let changeCursor: ChangeCursor = { horizon: maxXid(horizon, since?.horizon) };
  if (since && hasMore) changeCursor = { horizon: since.horizon, after: { xid: last.changedXid, position: last.position } };
  const eta = counts.pending > 0 ? await estimate(db, job, pause?.until ?? null) : null;

  const report: JobReport = {
    id: job.id,
    name: job.name,
    createdAt: job.createdAt.toISOString(),
    status: jobStatus(job, counts),
    source: env().vt.source,
    counts: {
      total: job.total,
      pending: counts.pending,
      completed: counts.completed,
      notFound: counts.notFound,
      failed: counts.failed,
      cancelled: counts.cancelled,
    },
    duplicates: job.duplicates,
    invalidCount: job.invalidCount,
    pause: toPauseJson(pause),
    estimatedCompletion: eta?.at?.toISOString() ?? null,
    estimateIsLowerBound: eta?.lowerBound ?? false,
    results: shown.map((row) => toResult(row, pause?.until ?? null)),
    nextCursor: !since && hasMore ? encodePageCursor(order, last) : null,
    changeCursor: encodeChangeCursor(changeCursor),
    moreChanges: since !== undefined && hasMore,
  };
  return { report, etag: reportEtag(job, state) };
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

async function estimate(db: Db, job: Job, pausedUntil: Date | null): Promise<{ at: Date | null; lowerBound: boolean }> {
  const e = env();
  const [ahead, usage] = await Promise.all([countLookupsAhead(db, job.lastPriority, LOOKUPS_AHEAD_CAP), cachedUsage(db)]);
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

function maxXid(a: string, b: string | undefined): string {
  return b !== undefined && BigInt(b) > BigInt(a) ? b : a;
}

// Cursors are opaque to clients: base64url of a short text. A page cursor names its sort, so it cannot be replayed
// under another one; a change cursor holds transaction ids.
function encodePageCursor(order: TaskOrder, row: TaskRow): string {
  return Buffer.from(`${order.sort}.${order.descending ? "d" : "a"}.${row.position}.${row.sortKey}`).toString("base64url");
}

function decodePageCursor(cursor: string, order: TaskOrder) {
  const match = /^(position|detections|scanDate)\.([ad])\.(\d{1,9})\.(.{1,64})$/.exec(Buffer.from(cursor, "base64url").toString());
  if (!match) throw new AppError("invalid_parameter", "cursor is not one this API returned");
  if (match[1] !== order.sort || (match[2] === "d") !== order.descending) {
    throw new AppError("invalid_parameter", "cursor belongs to another sort order; start again without it");
  }
  const key = match[4];
  const valid =
    order.sort === "scanDate" ? /^(-infinity|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)$/.test(key) : /^-?\d{1,10}$/.test(key);
  if (!valid) throw new AppError("invalid_parameter", "cursor is not one this API returned");
  return { position: Number(match[3]), key };
}

function encodeChangeCursor(cursor: ChangeCursor): string {
  const after = cursor.after ? `.${cursor.after.xid}.${cursor.after.position}` : "";
  return Buffer.from(`c${cursor.horizon}${after}`).toString("base64url");
}

function decodeChangeCursor(cursor: string): ChangeCursor {
  const match = /^c(\d{1,19})(?:\.(\d{1,19})\.(\d{1,9}))?$/.exec(Buffer.from(cursor, "base64url").toString());
  if (!match || BigInt(match[1]) > 2n ** 63n - 1n || (match[2] && BigInt(match[2]) > 2n ** 63n - 1n)) {
    throw new AppError("invalid_parameter", "since is not a changeCursor this API returned");
  }
  return { horizon: match[1], after: match[2] ? { xid: match[2], position: Number(match[3]) } : undefined };
}
