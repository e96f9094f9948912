// The report cache: VirusTotal's answers per file and source, and its recent "not found" answers per name.
import { and, desc, eq, gt, inArray, or, sql } from "drizzle-orm";
import type postgres from "postgres";
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
 * A report's columns as arguments, in the order the database functions take them after its source
 * (drizzle/0011_settle_function.sql: hashscan_save_report, and a task's end in hashscan_finish_tasks); null for each
 * without one. Typed parameters, so postgres.js prepares a statement once per connection without asking the server
 * for their types first.
 */
export function reportArguments(q: postgres.Sql, report: ReportSummary | null) {
  return q`
    ${report?.sha256 ?? null}::text, ${report?.md5 ?? null}::text, ${report?.sha1 ?? null}::text,
    ${report?.fortinet ?? null}::text, ${report?.fortinetCategory ?? null}::text, ${report?.detected ?? null}::int,
    ${report?.engines ?? null}::int, ${report?.scanDate?.toISOString() ?? null}::timestamptz,
    ${report?.meaningfulName ?? null}::text, ${report?.fileType ?? null}::text`;
}

/**
 * VirusTotal's answer as the database functions take it: JSON text, since on Drizzle's client postgres.js passes json
 * parameters through unserialized.
 */
export const rawArgument = (raw: unknown) => JSON.stringify(raw);

/**
 * Keeps the newest report of a file per source: the simulator's never replaces VirusTotal's. A lookup stores its
 * answer with its settle (worker/settle.ts); this is the same store alone.
 */
export async function saveReport(db: SqlExecutor, summary: ReportSummary, raw: unknown, source: VirusTotalSource) {
  const q = driverOf(db);
  await q`select hashscan_save_report(${source}::text, ${reportArguments(q, summary)}, ${rawArgument(raw)}::jsonb)`.execute();
}

export async function recordNotFound(db: SqlExecutor, hash: string, source: VirusTotalSource) {
  await driverOf(db)`
    insert into not_found_hashes (hash, source, checked_at) values (${hash}::text, ${source}::text, now())
    on conflict (hash, source) do update set checked_at = excluded.checked_at`.execute();
}
