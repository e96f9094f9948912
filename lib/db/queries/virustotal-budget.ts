// The VirusTotal request budget, shared by every worker process through Postgres: a sliding per-minute window,
// UTC-day and UTC-month counters, and the global pause. A transaction-scoped advisory lock serialises the check
// and the claim, so two processes can never both take the last slot.
import { and, eq, gt, ne, sql } from "drizzle-orm";
import type { Db, Executor } from "../client";
import { vtPause, type PauseCause } from "../schema";

export interface RequestLimits {
  perMinute: number;
  perDay: number;
  perMonth: number;
  /** The sliding window's length: 60 s in production, shorter in tests. */
  windowSeconds: number;
}

export type Slot = { granted: true } | { granted: false; until: Date; cause: PauseCause | "window"; reason: string };

// VirusTotal counts a request when it arrives; a second of margin keeps latency jitter from crossing its window.
const MARGIN_SECONDS = 1;

const DAY = sql`'day:' || to_char(now() at time zone 'utc', 'YYYY-MM-DD')`;
const MONTH = sql`'month:' || to_char(now() at time zone 'utc', 'YYYY-MM')`;
const NEXT_DAY_MS = sql`extract(epoch from date_trunc('day', now() at time zone 'utc') + interval '1 day') * 1000`;
const NEXT_MONTH_MS = sql`extract(epoch from date_trunc('month', now() at time zone 'utc') + interval '1 month') * 1000`;

export async function acquireRequestSlot(db: Db, budget: string, limits: RequestLimits): Promise<Slot> {
  const window = limits.windowSeconds + MARGIN_SECONDS;
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('hashscan:vt-budget:' || ${budget}))`);

    const pause = await getActivePause(tx, budget);
    if (pause) return { granted: false, until: pause.until, cause: pause.cause, reason: pause.reason };

    // Times come back as epoch milliseconds: Drizzle's postgres-js driver leaves timestamps as driver strings.
    const [state] = await tx.execute<{ in_window: number; window_free_at: number | null; day: number; month: number; next_day: number; next_month: number }>(sql`
      with recent as (
        select at from vt_requests
        where budget = ${budget} and at > now() - make_interval(secs => ${window})
        order by at desc
        limit ${limits.perMinute}
      )
      select
        (select count(*)::int from recent) as in_window,
        -- When the oldest of the last perMinute requests leaves the window, one slot is free again.
        (select extract(epoch from min(at) + make_interval(secs => ${window})) * 1000 from recent)::float8 as window_free_at,
        coalesce((select count from vt_usage where budget = ${budget} and period = 'requests:' || ${DAY}), 0) as day,
        coalesce((select count from vt_usage where budget = ${budget} and period = 'requests:' || ${MONTH}), 0) as month,
        (${NEXT_DAY_MS})::float8 as next_day,
        (${NEXT_MONTH_MS})::float8 as next_month`);

    // Our own counters say the day's or month's quota is spent: that is a pause everyone can see, until the reset.
    if (state.month >= limits.perMonth) {
      const reason = `the monthly limit of ${limits.perMonth} VirusTotal requests is used up`;
      const until = new Date(state.next_month);
      await startPause(tx, budget, { until, cause: "monthly_limit", reason });
      return { granted: false, until, cause: "monthly_limit", reason };
    }
    if (state.day >= limits.perDay) {
      const reason = `the daily limit of ${limits.perDay} VirusTotal requests is used up`;
      const until = new Date(state.next_day);
      await startPause(tx, budget, { until, cause: "daily_limit", reason });
      return { granted: false, until, cause: "daily_limit", reason };
    }
    if (state.in_window >= limits.perMinute) {
      return {
        granted: false,
        until: new Date(state.window_free_at!),
        cause: "window",
        reason: `${limits.perMinute} requests per ${limits.windowSeconds} s`,
      };
    }

    await tx.execute(sql`insert into vt_requests (budget) values (${budget})`);
    await tx.execute(sql`
      insert into vt_usage (budget, period, count)
      values (${budget}, 'requests:' || ${DAY}, 1), (${budget}, 'requests:' || ${MONTH}, 1)
      on conflict (budget, period) do update set count = vt_usage.count + 1`);
    await tx.execute(sql`delete from vt_requests where at < now() - interval '10 minutes'`);
    return { granted: true };
  });
}

/** Counts lookups that our cache answered instead of VirusTotal. */
export async function countSavedRequests(db: Executor, budget: string, n: number) {
  if (n <= 0) return;
  await db.execute(sql`
    insert into vt_usage (budget, period, count) values (${budget}, 'saved:' || ${DAY}, ${n})
    on conflict (budget, period) do update set count = vt_usage.count + excluded.count`);
}

export interface Usage {
  lastMinute: number;
  today: number;
  thisMonth: number;
  savedToday: number;
}

export async function readUsage(db: Executor, budget: string, windowSeconds: number): Promise<Usage> {
  const count = (period: ReturnType<typeof sql>) =>
    sql`coalesce((select count from vt_usage where budget = ${budget} and period = ${period}), 0)`;
  const [row] = await db.execute<{ last_minute: number; today: number; this_month: number; saved_today: number }>(sql`
    select
      (select count(*)::int from vt_requests
       where budget = ${budget} and at > now() - make_interval(secs => ${windowSeconds})) as last_minute,
      ${count(sql`'requests:' || ${DAY}`)} as today,
      ${count(sql`'requests:' || ${MONTH}`)} as this_month,
      ${count(sql`'saved:' || ${DAY}`)} as saved_today`);
  return { lastMinute: row.last_minute, today: row.today, thisMonth: row.this_month, savedToday: row.saved_today };
}

export async function getActivePause(db: Executor, budget: string) {
  const [pause] = await db.select().from(vtPause).where(and(eq(vtPause.budget, budget), gt(vtPause.until, sql`now()`)));
  return pause ?? null;
}

/** Starts (or extends) the global pause; a pause that already ends later is kept. */
export async function startPause(db: Executor, budget: string, pause: { until: Date; cause: PauseCause; reason: string }) {
  await db
    .insert(vtPause)
    .values({ budget, ...pause })
    .onConflictDoUpdate({
      target: vtPause.budget,
      set: { ...pause, startedAt: sql`now()` },
      setWhere: sql`${vtPause.until} < ${pause.until.toISOString()}::timestamptz`,
    });
}

/**
 * At a worker's start: a rejected key's pause ends (the key may have been replaced), and lookups left waiting for
 * a pause that no longer applies (that one, or one of another key's budget) run now. Returns whether any did.
 */
export async function resumeWaitingLookups(db: Db, budget: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const ended = await tx
      .delete(vtPause)
      .where(and(eq(vtPause.budget, budget), eq(vtPause.cause, "bad_key")))
      .returning({ until: vtPause.until });
    const [foreign] = await tx
      .select({ budget: vtPause.budget })
      .from(vtPause)
      .where(and(ne(vtPause.budget, budget), gt(vtPause.until, sql`now()`)))
      .limit(1);
    if (ended.length === 0 && !foreign) return false;
    // Lookups waiting for a rate slot come back too; the limiter sends them off again at once if it must.
    await tx.execute(sql`
      select graphile_worker.reschedule_jobs(
        array(select id from graphile_worker._private_jobs where locked_at is null and run_at > now()),
        run_at := now()
      )`);
    return true;
  });
}
