// Reading a job's progress: counts, the current pause, an estimated completion, and one keyset page of results.
import type { Db } from "@/lib/db/client";
import { requestBudget } from "@/lib/budget/identity";
import { getActivePause, readUsage } from "@/lib/db/queries/budget";
import { findJob } from "@/lib/db/queries/jobs";
import { countLookupsAhead } from "@/lib/db/queries/queue";
import { countTasksByStatus, listTaskResults, type StatusCounts, type TaskResultRow } from "@/lib/db/queries/tasks";
import type { Job } from "@/lib/db/schema";
import { env } from "@/lib/env";
import { AppError } from "@/lib/errors";
import { toPauseJson, type JobReport, type JobResult, type JobStatus } from "./api-schema";
import { estimateCompletion } from "./eta";

export interface ReportPage {
  cursor?: string;
  limit: number;
}

export async function getJobReport(db: Db, id: string, page: ReportPage): Promise<JobReport | null> {
  const job = await findJob(db, id);
  return job ? buildJobReport(db, job, page) : null;
}

/** The report of a job already read (the report page reads it once for its own header too). */
export async function buildJobReport(db: Db, job: Job, page: ReportPage): Promise<JobReport> {
  if (!Number.isInteger(page.limit) || page.limit < 1) throw new Error(`getJobReport: bad limit ${page.limit}`);
  const afterPosition = page.cursor === undefined ? -1 : decodeCursor(page.cursor);
  const id = job.id;

  // One snapshot for the counts and the rows: read apart, a lookup settling between them showed a job with nothing
  // pending beside a row still pending.
  const [counts, rows, pause] = await db.transaction(
    async (tx) => [
      await countTasksByStatus(tx, id),
      await listTaskResults(tx, id, { afterPosition, limit: page.limit + 1 }),
      await getActivePause(tx, requestBudget()),
    ] as const,
    { isolationLevel: "repeatable read", accessMode: "read only" },
  );
  const hasMore = rows.length > page.limit;
  const shown = hasMore ? rows.slice(0, page.limit) : rows;
  const status = jobStatus(job, counts);

  return {
    id: job.id,
    name: job.name,
    createdAt: job.createdAt.toISOString(),
    status,
    source: env().vt.source,
    counts: {
      total: job.total,
      pending: counts.pending,
      completed: counts.completed,
      notFound: counts.not_found,
      failed: counts.failed,
      cancelled: counts.cancelled,
    },
    duplicates: job.duplicates,
    invalidCount: job.invalidCount,
    pause: toPauseJson(pause),
    estimatedCompletion: counts.pending > 0 ? ((await estimate(db, job, pause?.until ?? null))?.toISOString() ?? null) : null,
    results: shown.map((row) => toResult(row, pause?.until ?? null)),
    nextCursor: hasMore ? encodeCursor(shown[shown.length - 1].position) : null,
  };
}

async function estimate(db: Db, job: Job, pausedUntil: Date | null): Promise<Date | null> {
  const e = env();
  const [lookupsAhead, usage] = await Promise.all([countLookupsAhead(db, job.lastPriority), readUsage(db, requestBudget(e), e.vt.windowSeconds)]);
  return estimateCompletion({
    now: new Date(),
    lookupsAhead,
    pausedUntil,
    perMinute: e.vt.requestsPerMinute,
    windowSeconds: e.vt.windowSeconds,
    perDay: e.vt.requestsPerDay,
    usedToday: usage.today,
    perMonth: e.vt.requestsPerMonth,
    usedThisMonth: usage.thisMonth,
  });
}

function jobStatus(job: Job, counts: StatusCounts): JobStatus {
  if (counts.pending === 0) return job.cancelledAt ? "cancelled" : "completed";
  return counts.completed + counts.not_found + counts.failed === 0 ? "queued" : "running";
}

function toResult(row: TaskResultRow, pausedUntil: Date | null): JobResult {
  const hasReport = row.status === "completed" && row.sha256 !== null;
  return {
    hash: row.hash,
    hashType: row.hashType,
    status: row.status,
    sha256: hasReport ? row.sha256 : row.hashType === "sha256" ? row.hash : null,
    fortinet: hasReport ? row.fortinet : null,
    fortinetCategory: hasReport ? row.fortinetCategory : null,
    detected: hasReport ? row.detected : null,
    engines: hasReport ? row.engines : null,
    scanDate: hasReport && row.scanDate ? row.scanDate.toISOString() : null,
    error: row.error,
    retryAt: row.status === "pending" ? upcoming(latest(row.retryAt, pausedUntil)) : null,
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

// The cursor is opaque to clients; today it carries the last position shown.
function encodeCursor(position: number): string {
  return Buffer.from(`p${position}`).toString("base64url");
}

function decodeCursor(cursor: string): number {
  const match = /^p(\d{1,9})$/.exec(Buffer.from(cursor, "base64url").toString());
  if (!match) throw new AppError("invalid_parameter", "cursor is not one this API returned");
  return Number(match[1]);
}
