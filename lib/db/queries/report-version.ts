// What a report's validator (ETag) is made of, read in one statement: the job (there, not expired, cancelled or not),
// its change count (base + deltas, as readJobCounts adds them) and the budget's active pause. It is all a
// revalidating poll reads: one round trip on one connection, the report page's most frequent request.
import { sql } from "drizzle-orm";
import type { Executor } from "../client";
import type { VtPause } from "../schema";

export interface ReportVersion {
  cancelled: boolean;
  changes: number;
  pause: Pick<VtPause, "until" | "cause"> | null;
}

export async function readReportVersion(db: Executor, jobId: string, budget: string): Promise<ReportVersion | null> {
  const [row] = await db.execute<{ cancelled: boolean; changes: string; until: string | null; cause: VtPause["cause"] | null }>(sql`
    select
      j.cancelled_at is not null as cancelled,
      (coalesce((select b.changes from job_counts b where b.job_id = j.id), 0)
        + coalesce((select sum(d.changes) from job_count_deltas d where d.job_id = j.id), 0))::text as changes,
      p.until, p.cause
    from jobs j
    left join vt_pause p on p.budget = ${budget} and p.until > now()
    where j.id = ${jobId} and j.expired_at is null`);
  if (!row) return null;
  return {
    cancelled: row.cancelled,
    changes: Number(row.changes),
    pause: row.until && row.cause ? { until: new Date(row.until), cause: row.cause } : null,
  };
}
