// The report cache and the task updates that follow a lookup. Every update is idempotent: run twice, same rows.
import { and, eq, gt, inArray, or, sql } from "drizzle-orm";
import type { VirusTotalSource } from "@/lib/env";
import type { ReportSummary } from "@/lib/virustotal";
import type { Executor } from "../client";
import { notFoundHashes, reports, tasks } from "../schema";
import { NOT_FOUND_TTL_HOURS, type CachePolicy } from "./jobs";

/** A report fetched within the TTL, whichever of the file's three names `hash` is. */
export async function findFreshReport(db: Executor, hash: string, policy: CachePolicy) {
  const [report] = await db
    .select({ sha256: reports.sha256, md5: reports.md5, sha1: reports.sha1 })
    .from(reports)
    .where(
      and(
        or(eq(reports.sha256, hash), eq(reports.md5, hash), eq(reports.sha1, hash)),
        gt(reports.fetchedAt, sql`now() - make_interval(hours => ${policy.ttlHours})`),
        inArray(reports.source, [...policy.sources]),
      ),
    )
    .limit(1);
  return report ?? null;
}

export async function isRecentlyNotFound(db: Executor, hash: string, sources: readonly VirusTotalSource[]) {
  const [row] = await db
    .select({ hash: notFoundHashes.hash })
    .from(notFoundHashes)
    .where(
      and(
        eq(notFoundHashes.hash, hash),
        gt(notFoundHashes.checkedAt, sql`now() - make_interval(hours => ${NOT_FOUND_TTL_HOURS})`),
        inArray(notFoundHashes.source, [...sources]),
      ),
    );
  return row !== undefined;
}

export async function saveReport(db: Executor, summary: ReportSummary, raw: unknown, source: VirusTotalSource) {
  const values = {
    sha256: summary.sha256,
    md5: summary.md5,
    sha1: summary.sha1,
    source,
    fetchedAt: sql`now()`,
    fortinet: summary.fortinet,
    fortinetCategory: summary.fortinetCategory,
    detected: summary.detected,
    engines: summary.engines,
    scanDate: summary.scanDate,
    raw,
  };
  await db.insert(reports).values(values).onConflictDoUpdate({ target: reports.sha256, set: values });
}

/** Completes every pending task, in every job, that asked for this file by any of its names. */
export async function completeTasksForFile(db: Executor, file: { sha256: string; md5: string; sha1: string }) {
  await db
    .update(tasks)
    .set({ status: "completed", reportSha256: file.sha256, error: null, retryAt: null, updatedAt: sql`now()` })
    .where(and(eq(tasks.status, "pending"), inArray(tasks.hash, [file.sha256, file.md5, file.sha1])));
}

export async function recordNotFound(db: Executor, hash: string, source: VirusTotalSource) {
  await db
    .insert(notFoundHashes)
    .values({ hash, source })
    .onConflictDoUpdate({ target: notFoundHashes.hash, set: { source, checkedAt: sql`now()` } });
}

export async function markTasksNotFound(db: Executor, hash: string) {
  await db
    .update(tasks)
    .set({ status: "not_found", error: null, retryAt: null, updatedAt: sql`now()` })
    .where(and(eq(tasks.status, "pending"), eq(tasks.hash, hash)));
}

export async function failTasks(db: Executor, hash: string, reason: string) {
  await db
    .update(tasks)
    .set({ status: "failed", error: reason, retryAt: null, updatedAt: sql`now()` })
    .where(and(eq(tasks.status, "pending"), eq(tasks.hash, hash)));
}

/** Pending tasks show why they wait and until when. */
export async function noteTasksWaiting(db: Executor, hash: string, note: { error: string | null; retryAt: Date }) {
  await db
    .update(tasks)
    .set({ error: note.error, retryAt: note.retryAt, updatedAt: sql`now()` })
    .where(and(eq(tasks.status, "pending"), eq(tasks.hash, hash)));
}
