// The report cache: VirusTotal's answers per file and source, and its recent "not found" answers per name.
import { and, desc, eq, gt, inArray, or, sql } from "drizzle-orm";
import type { VirusTotalSource } from "@/lib/env";
import type { ReportSummary } from "@/lib/virustotal";
import { driverOf, type Executor, type SqlExecutor } from "../client";
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

/**
 * Keeps the newest report of a file per source: the simulator's never replaces VirusTotal's. Prepared (postgres.js),
 * as every statement a lookup's settling sends (worker/settle.ts, lib/db/queries/tasks.ts). The answer goes as JSON
 * text: on Drizzle's client, postgres.js passes json parameters through unserialized.
 */
export async function saveReport(db: SqlExecutor, summary: ReportSummary, raw: unknown, source: VirusTotalSource) {
  const q = driverOf(db);
  await q`
    insert into reports (sha256, md5, sha1, source, fetched_at, fortinet, fortinet_category, detected, engines, scan_date, meaningful_name, file_type, raw)
    values (
      ${summary.sha256}::text, ${summary.md5}::text, ${summary.sha1}::text, ${source}::text, now(),
      ${summary.fortinet}::text, ${summary.fortinetCategory}::text, ${summary.detected}::int, ${summary.engines}::int,
      ${summary.scanDate?.toISOString() ?? null}::timestamptz, ${summary.meaningfulName}::text, ${summary.fileType}::text,
      ${JSON.stringify(raw)}::jsonb
    )
    on conflict (sha256, source) do update set
      md5 = excluded.md5, sha1 = excluded.sha1, fetched_at = excluded.fetched_at, fortinet = excluded.fortinet,
      fortinet_category = excluded.fortinet_category, detected = excluded.detected, engines = excluded.engines,
      scan_date = excluded.scan_date, meaningful_name = excluded.meaningful_name, file_type = excluded.file_type, raw = excluded.raw`.execute();
}

export async function recordNotFound(db: SqlExecutor, hash: string, source: VirusTotalSource) {
  await driverOf(db)`
    insert into not_found_hashes (hash, source, checked_at) values (${hash}::text, ${source}::text, now())
    on conflict (hash, source) do update set checked_at = excluded.checked_at`.execute();
}
