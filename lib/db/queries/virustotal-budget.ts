// The VirusTotal request budget, shared by every worker process through Postgres: a sliding per-minute window,
// UTC-day and UTC-month counters, and the global pause. A transaction-scoped advisory lock serialises the check
// and the claim, so two processes can never both take the last slot.
import { sql } from "drizzle-orm";
import type { Db, Executor } from "../client";
import { vtPause } from "../schema";

export interface RequestLimits {
  perMinute: number;
  perDay: number;
  perMonth: number;
}

export type SlotWait = "paused" | "minute" | "day" | "month";
export type Slot = { granted: true } | { granted: false; until: Date; wait: SlotWait; reason: string };

// VirusTotal counts a request when it arrives; a second of margin keeps latency jitter from crossing its window.
const WINDOW_SECONDS = 61;

export async function acquireRequestSlot(db: Db, limits: RequestLimits): Promise<Slot> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('hashscan:vt-budget'))`);

    const pause = await getActivePause(tx);
    if (pause) return { granted: false, until: pause.until, wait: "paused", reason: pause.reason };

    // Times come back as epoch milliseconds: Drizzle's postgres-js driver leaves timestamps as driver strings.
    const [state] = await tx.execute<{ in_window: number; minute_free_at: number | null; day: number; month: number; next_day: number; next_month: number }>(sql`
      with recent as (
        select at from vt_requests
        where at > now() - make_interval(secs => ${WINDOW_SECONDS})
        order by at desc
        limit ${limits.perMinute}
      )
      select
        (select count(*)::int from recent) as in_window,
        -- When the oldest of the last perMinute requests leaves the window, one slot is free again.
        (select extract(epoch from min(at) + make_interval(secs => ${WINDOW_SECONDS})) * 1000 from recent)::float8 as minute_free_at,
        coalesce((select requests from vt_usage where period = 'day:' || to_char(now() at time zone 'utc', 'YYYY-MM-DD')), 0) as day,
        coalesce((select requests from vt_usage where period = 'month:' || to_char(now() at time zone 'utc', 'YYYY-MM')), 0) as month,
        (extract(epoch from date_trunc('day', now() at time zone 'utc') + interval '1 day') * 1000)::float8 as next_day,
        (extract(epoch from date_trunc('month', now() at time zone 'utc') + interval '1 month') * 1000)::float8 as next_month`);

    if (state.month >= limits.perMonth) {
      return { granted: false, until: new Date(state.next_month), wait: "month", reason: `Monthly limit of ${limits.perMonth} requests reached` };
    }
    if (state.day >= limits.perDay) {
      return { granted: false, until: new Date(state.next_day), wait: "day", reason: `Daily limit of ${limits.perDay} requests reached` };
    }
    if (state.in_window >= limits.perMinute) {
      return {
        granted: false,
        until: new Date(state.minute_free_at!),
        wait: "minute",
        reason: `Per-minute limit of ${limits.perMinute} requests reached`,
      };
    }

    await tx.execute(sql`insert into vt_requests default values`);
    await tx.execute(sql`
      insert into vt_usage (period, requests)
      values ('day:' || to_char(now() at time zone 'utc', 'YYYY-MM-DD'), 1),
             ('month:' || to_char(now() at time zone 'utc', 'YYYY-MM'), 1)
      on conflict (period) do update set requests = vt_usage.requests + 1`);
    await tx.execute(sql`delete from vt_requests where at < now() - interval '10 minutes'`);
    return { granted: true };
  });
}

export async function getActivePause(db: Executor) {
  const [pause] = await db.select().from(vtPause).where(sql`${vtPause.until} > now()`);
  return pause ?? null;
}

/** Starts (or extends) the global pause; a pause that already ends later is kept. */
export async function startPause(db: Executor, until: Date, reason: string) {
  await db
    .insert(vtPause)
    .values({ id: 1, until, reason })
    .onConflictDoUpdate({
      target: vtPause.id,
      set: { until, reason, startedAt: sql`now()` },
      setWhere: sql`${vtPause.until} < ${until.toISOString()}::timestamptz`,
    });
}
