// Reading a job's progress: counts, the current pause, and one keyset page of results in input order.
import type { Db } from "@/lib/db/client";
import { countTasksByStatus, findJob, listTaskResults, type StatusCounts, type TaskResultRow } from "@/lib/db/queries/jobs";
import { getActivePause } from "@/lib/db/queries/virustotal-budget";
import { env } from "@/lib/env";
import { AppError } from "@/lib/errors";
import type { JobReport, JobResult, JobStatus } from "./api-schema";

export async function getJobReport(db: Db, id: string, page: { cursor?: string; limit: number }): Promise<JobReport | null> {
  const afterPosition = page.cursor === undefined ? -1 : decodeCursor(page.cursor);
  const job = await findJob(db, id);
  if (!job) return null;

  const [counts, rows, pause] = await Promise.all([
    countTasksByStatus(db, id),
    listTaskResults(db, id, { afterPosition, limit: page.limit + 1 }),
    getActivePause(db),
  ]);
  const hasMore = rows.length > page.limit;
  const shown = hasMore ? rows.slice(0, page.limit) : rows;

  return {
    id: job.id,
    name: job.name,
    createdAt: job.createdAt.toISOString(),
    status: jobStatus(counts),
    source: env().vt.source,
    counts: {
      total: job.total,
      pending: counts.pending,
      completed: counts.completed,
      notFound: counts.not_found,
      failed: counts.failed,
    },
    duplicates: job.duplicates,
    invalidCount: job.invalidCount,
    pause: pause ? { until: pause.until.toISOString(), reason: pause.reason } : null,
    results: shown.map((row) => toResult(row, pause?.until ?? null)),
    nextCursor: hasMore ? encodeCursor(shown[shown.length - 1].position) : null,
  };
}

function jobStatus(counts: StatusCounts): JobStatus {
  if (counts.pending === 0) return "completed";
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
