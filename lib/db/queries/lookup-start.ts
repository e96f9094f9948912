// A lookup's first statement: the cache, whether anyone still waits for the name, the name's lease and, once the lease
// is ours, a free request slot, in one. It is all a lookup asks Postgres before asking VirusTotal, and its own
// transaction: the budget's lock, taken by the claim (drizzle/0010_budget_claim_function.sql), is given back by the
// commit that follows it on the server, not after a round trip to the worker.
import type postgres from "postgres";
import type { ClaimLimits } from "./budget";
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

export interface LookAndClaim {
  look: FirstLook;
  /**
   * When the lease is ours: true, a request is claimed; false, the window, a limit or a pause turned it away; null,
   * no claim was made: after the budget's lock, the cache had an answer or no pending task wanted the name any more.
   */
  slot: boolean | null;
}

/** The budget a lookup claims its request from. */
export interface BudgetClaim {
  budget: string;
  limits: ClaimLimits;
  windowMs: number;
}

/**
 * The cached answer for `hash` (VirusTotal's report before the simulator's, then a recent "not found"); failing
 * that, whether a pending task still wants it; if one does, the lease on it for `holder` unless a live one is held
 * by someone else (an expired lease is taken over, our own renewed); and with the lease, a free request slot from
 * the budget, claimed after its lock only while the lease is still ours, a task still wants the name and the cache
 * still has no answer (hashscan_claim_lookup_request: the lease's previous holder may have stored one since this
 * statement's snapshot). A slot that is not free is left to acquireRequestSlot (lib/budget/slot.ts), which decides
 * when to come back.
 */
export async function lookAndClaim(
  db: SqlExecutor,
  run: { hash: string; holder: string },
  leaseSeconds: number,
  policy: CachePolicy,
  claim: BudgetClaim,
): Promise<LookAndClaim> {
  const { hash, holder } = run;
  const q = driverOf(db);
  const sources = policy.sources as VirusTotalSource[];
  const [row] = await q<(LookRow & { slot: boolean | null })[]>`
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
    ),
    claimed as materialized (
      select hashscan_claim_lookup_request(
        ${hash}::text, ${holder}::text, ${policy.ttlHours}::int, ${sources}::text[], ${NOT_FOUND_TTL_HOURS}::int,
        ${claim.budget}::text, ${claim.limits.perMinute}::int, ${claim.limits.perDay}::int, ${claim.limits.perMonth}::int, ${claim.windowMs}::float8
      ) as granted
      from leased
    )
    select r.*,
      exists (select 1 from not_found) as not_found,
      exists (select 1 from wanted) as wanted,
      exists (select 1 from leased) as leased,
      (select granted from claimed) as slot,
      (select extract(epoch from l.expires_at) * 1000 from lookup_leases l where l.hash = ${hash}::text)::float8 as lease_expires_at,
      (extract(epoch from r.scan_date) * 1000)::float8 as scan_date_ms
    from (select) one left join report r on true`.execute();
  return { look: lookOf(row), slot: row.leased ? row.slot : null };
}

type LookRow = Partial<ReportRow> & { not_found: boolean; wanted: boolean; leased: boolean; lease_expires_at: number | null; scan_date_ms: number | null };

function lookOf(row: LookRow): FirstLook {
  if (row.sha256) return { kind: "report", report: summaryOf(row as ReportRow, row.scan_date_ms), source: row.source! };
  if (row.not_found) return { kind: "not_found" };
  if (!row.wanted) return { kind: "unwanted" };
  if (row.leased) return { kind: "leased" };
  // Taken by a lookup that started after this statement did (its lease is not in our snapshot): it has only just
  // begun, so come back now rather than never.
  return { kind: "lease_held", expiresAt: row.lease_expires_at === null ? new Date() : new Date(row.lease_expires_at) };
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
