// The report cache: VirusTotal's answers per file and source, and its recent "not found" answers per name.
import { and, desc, eq, gt, inArray, or, sql } from "drizzle-orm";
import type { VirusTotalSource } from "@/lib/env";
import type { ReportSummary } from "@/lib/virustotal";
import type { Executor } from "../client";
import { notFoundHashes, reports } from "../schema";

export interface CachePolicy {
  ttlHours: number;
  sources: readonly VirusTotalSource[];
}

/** A "not found" answer is remembered this long: asking again so soon would spend a request for nothing. */
export const NOT_FOUND_TTL_HOURS = 1;

/**
 * A report fetched within the TTL from one of the allowed sources, whichever of the file's three names `hash` is;
 * VirusTotal's own before the simulator's.
 */
export async function findFreshReport(db: Executor, hash: string, policy: CachePolicy) {
  const [report] = await db
    .select()
    .from(reports)
    .where(
      and(
        or(eq(reports.sha256, hash), eq(reports.md5, hash), eq(reports.sha1, hash)),
        gt(reports.fetchedAt, sql`now() - make_interval(hours => ${policy.ttlHours})`),
        inArray(reports.source, [...policy.sources]),
      ),
    )
    .orderBy(desc(sql`${reports.source} = 'virustotal'`), desc(reports.fetchedAt))
    .limit(1);
  return report ?? null;
}

/** When VirusTotal last answered "not found" for this name, if within NOT_FOUND_TTL_HOURS; else null. */
export async function recentNotFound(db: Executor, hash: string, sources: readonly VirusTotalSource[]): Promise<Date | null> {
  const [row] = await db
    .select({ checkedAt: notFoundHashes.checkedAt })
    .from(notFoundHashes)
    .where(
      and(
        eq(notFoundHashes.hash, hash),
        gt(notFoundHashes.checkedAt, sql`now() - make_interval(hours => ${NOT_FOUND_TTL_HOURS})`),
        inArray(notFoundHashes.source, [...sources]),
      ),
    )
    .orderBy(desc(notFoundHashes.checkedAt))
    .limit(1);
  return row?.checkedAt ?? null;
}

/** Keeps the newest report of a file per source: the simulator's never replaces VirusTotal's. */
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
    meaningfulName: summary.meaningfulName,
    fileType: summary.fileType,
    raw,
  };
  await db.insert(reports).values(values).onConflictDoUpdate({ target: [reports.sha256, reports.source], set: values });
}

export async function recordNotFound(db: Executor, hash: string, source: VirusTotalSource) {
  await db
    .insert(notFoundHashes)
    .values({ hash, source })
    .onConflictDoUpdate({ target: [notFoundHashes.hash, notFoundHashes.source], set: { checkedAt: sql`now()` } });
}
