// A lookup's first statement: the cache, whether anyone still waits for the name, and the name's lease, in one. Sent
// together with the request slot's claim (worker/look-and-claim.ts), it is all a lookup asks Postgres before asking
// VirusTotal; the cache is read once more, by the claim, after the lease is ours (stillUnanswered).
import type postgres from "postgres";
import type { VirusTotalSource } from "@/lib/env";
import type { ReportSummary } from "@/lib/virustotal";
import { driverOf, type SqlExecutor } from "../client";
import { NOT_FOUND_TTL_HOURS, type CachePolicy } from "./reports";

export type FirstLook =
  | { kind: "report"; report: ReportSummary; source: VirusTotalSource }
  | { kind: "not_found" }
  /** No pending task asks for the name any more. */
  | { kind: "unwanted" }
  /** The lease is ours: nobody else asks VirusTotal for this name until we give it up. */
  | { kind: "leased" }
  /** Another lookup holds the lease until then. */
  | { kind: "lease_held"; expiresAt: Date };

/** Fresh reports of the file, by whichever of its three names `hash` is, from an allowed source. */
const freshReports = (q: postgres.Sql, hash: string, policy: CachePolicy) => q`
  select sha256, md5, sha1, source, fortinet, fortinet_category, detected, engines, scan_date, meaningful_name, file_type
  from reports
  where (sha256 = ${hash}::text or md5 = ${hash}::text or sha1 = ${hash}::text)
    and fetched_at > now() - make_interval(hours => ${policy.ttlHours}::int)
    and source = any(${policy.sources as VirusTotalSource[]}::text[])`;

/** VirusTotal's recent "not found" answers for the name. */
const recentNotFounds = (q: postgres.Sql, hash: string, policy: CachePolicy) => q`
  select 1 from not_found_hashes
  where hash = ${hash}::text and source = any(${policy.sources as VirusTotalSource[]}::text[])
    and checked_at > now() - make_interval(hours => ${NOT_FOUND_TTL_HOURS}::int)`;

/**
 * The cached answer for `hash` (VirusTotal's report before the simulator's, then a recent "not found"); failing
 * that, whether a pending task still wants it; if one does, the lease on it for `holder` unless a live one is held
 * by someone else (an expired lease is taken over, our own renewed).
 */
export async function lookOrLease(db: SqlExecutor, hash: string, holder: string, leaseSeconds: number, policy: CachePolicy): Promise<FirstLook> {
  const q = driverOf(db);
  const [row] = await q<(Partial<ReportRow> & { not_found: boolean; wanted: boolean; leased: boolean; lease_expires_at: number | null; scan_date_ms: number | null })[]>`
    with report as materialized (
      ${freshReports(q, hash, policy)}
      order by source = 'virustotal' desc, fetched_at desc
      limit 1
    ),
    not_found as materialized (
      ${recentNotFounds(q, hash, policy)} and not exists (select 1 from report)
      limit 1
    ),
    wanted as materialized (
      select 1 from tasks
      where status = 'pending' and hash = ${hash}::text
        and not exists (select 1 from report) and not exists (select 1 from not_found)
      limit 1
    ),
    leased as (
      insert into lookup_leases (hash, holder, expires_at)
      select ${hash}::text, ${holder}::text, now() + make_interval(secs => ${leaseSeconds}::int) from wanted
      on conflict (hash) do update set holder = excluded.holder, expires_at = excluded.expires_at
        where lookup_leases.expires_at < now() or lookup_leases.holder = excluded.holder
      returning 1
    )
    select r.*,
      exists (select 1 from not_found) as not_found,
      exists (select 1 from wanted) as wanted,
      exists (select 1 from leased) as leased,
      (select extract(epoch from l.expires_at) * 1000 from lookup_leases l where l.hash = ${hash}::text)::float8 as lease_expires_at,
      (extract(epoch from r.scan_date) * 1000)::float8 as scan_date_ms
    from (select) one left join report r on true`.execute();
  if (row.sha256) return { kind: "report", report: summaryOf(row as ReportRow, row.scan_date_ms), source: row.source! };
  if (row.not_found) return { kind: "not_found" };
  if (!row.wanted) return { kind: "unwanted" };
  if (row.leased) return { kind: "leased" };
  // Taken by a lookup that started after this statement did (its lease is not in our snapshot): it has only just
  // begun, so come back now rather than never.
  return { kind: "lease_held", expiresAt: row.lease_expires_at === null ? new Date() : new Date(row.lease_expires_at) };
}

/**
 * True while `holder` holds the lease on `hash`, a pending task still wants it and the cache still has no answer
 * for it: the condition of the request slot's claim sent after lookOrLease, read after the lease was taken, so that
 * it also sees an answer stored by the lease's previous holder after lookOrLease's snapshot.
 */
export function stillUnanswered(q: postgres.Sql, hash: string, holder: string, policy: CachePolicy) {
  return q`
    exists (select 1 from lookup_leases l where l.hash = ${hash}::text and l.holder = ${holder}::text)
    and exists (select 1 from tasks where status = 'pending' and hash = ${hash}::text)
    and not exists (${freshReports(q, hash, policy)})
    and not exists (${recentNotFounds(q, hash, policy)})`;
}

interface ReportRow {
  sha256: string;
  md5: string;
  sha1: string;
  source: VirusTotalSource;
  fortinet: string | null;
  fortinet_category: string | null;
  detected: number;
  engines: number;
  meaningful_name: string | null;
  file_type: string | null;
}

/** Times come as epoch milliseconds: Drizzle's client leaves postgres.js's timestamps as text. */
function summaryOf(row: ReportRow, scanDateMs: number | null): ReportSummary {
  return {
    sha256: row.sha256,
    md5: row.md5,
    sha1: row.sha1,
    fortinet: row.fortinet,
    fortinetCategory: row.fortinet_category,
    detected: row.detected,
    engines: row.engines,
    scanDate: scanDateMs === null ? null : new Date(scanDateMs),
    meaningfulName: row.meaningful_name,
    fileType: row.file_type,
  };
}
