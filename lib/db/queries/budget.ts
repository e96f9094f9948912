// The request budget's rows: requests in the sliding window, day and month counters, pauses, the wake cursor.
// SQL only: the rules that decide with them live in lib/budget/.
import { and, eq, gt, sql } from "drizzle-orm";
import type { Executor } from "../client";
import { vtPause, type PauseCause } from "../schema";

const day = (at: ReturnType<typeof sql>) => sql`'day:' || to_char(${at} at time zone 'utc', 'YYYY-MM-DD')`;
const month = (at: ReturnType<typeof sql>) => sql`'month:' || to_char(${at} at time zone 'utc', 'YYYY-MM')`;

/**
 * Serialises every claim on a budget (a transaction-scoped advisory lock) and returns the time after the lock
 * was granted, as Postgres text (microseconds kept): the time every check and record of the claim uses.
 */
export async function lockBudget(db: Executor, budget: string): Promise<string> {
  await db.execute(sql`select pg_advisory_xact_lock(hashtext('hashscan:vt-budget:' || ${budget}))`);
  const [row] = await db.execute<{ at: string }>(sql`select clock_timestamp()::text as at`);
  return row.at;
}

export interface BudgetState {
  inWindow: number;
  /** When the oldest of the last perMinute requests leaves the window (epoch ms); null when the window is empty. */
  windowFreeAt: number | null;
  day: number;
  month: number;
  nextDay: number;
  nextMonth: number;
  /** The wake time last handed to a lookup turned away by the window (epoch ms); null if none is ahead. */
  wakeCursor: number | null;
}

export async function readBudgetState(db: Executor, budget: string, atText: string, windowMs: number, perMinute: number): Promise<BudgetState> {
  const at = sql`${atText}::timestamptz`;
  // Times come back as epoch milliseconds: Drizzle's postgres-js driver leaves timestamps as driver strings.
  const [row] = await db.execute<{
    in_window: number; window_free_at: number | null; day: number; month: number; next_day: number; next_month: number; wake_cursor: number | null;
  }>(sql`
    with recent as (
      select at from vt_requests
      where budget = ${budget} and at > ${at} - make_interval(secs => ${windowMs / 1000})
      order by at desc
      limit ${perMinute}
    )
    select
      (select count(*)::int from recent) as in_window,
      (select extract(epoch from min(at)) * 1000 + ${windowMs} from recent)::float8 as window_free_at,
      coalesce((select count from vt_usage where budget = ${budget} and period = 'requests:' || ${day(at)}), 0) as day,
      coalesce((select count from vt_usage where budget = ${budget} and period = 'requests:' || ${month(at)}), 0) as month,
      (extract(epoch from date_trunc('day', ${at} at time zone 'utc') + interval '1 day') * 1000)::float8 as next_day,
      (extract(epoch from date_trunc('month', ${at} at time zone 'utc') + interval '1 month') * 1000)::float8 as next_month,
      (select extract(epoch from c.at) * 1000 from vt_wake_cursor c where c.budget = ${budget} and c.at > ${at})::float8 as wake_cursor`);
  return {
    inWindow: row.in_window,
    windowFreeAt: row.window_free_at,
    day: row.day,
    month: row.month,
    nextDay: row.next_day,
    nextMonth: row.next_month,
    wakeCursor: row.wake_cursor,
  };
}

/**
 * Records a request made at `at`, and forgets requests long out of the window: after twice its length, and never
 * sooner than ten minutes (the status page and the rate measurements read them).
 */
export async function recordRequest(db: Executor, budget: string, atText: string, windowMs: number) {
  const keepSeconds = Math.max(600, (2 * windowMs) / 1000);
  const at = sql`${atText}::timestamptz`;
  await db.execute(sql`insert into vt_requests (budget, at) values (${budget}, ${at})`);
  await db.execute(sql`
    insert into vt_usage (budget, period, count)
    values (${budget}, 'requests:' || ${day(at)}, 1), (${budget}, 'requests:' || ${month(at)}, 1)
    on conflict (budget, period) do update set count = vt_usage.count + 1`);
  await db.execute(sql`delete from vt_requests where budget = ${budget} and at < ${at} - make_interval(secs => ${keepSeconds})`);
}

export async function setWakeCursor(db: Executor, budget: string, at: Date) {
  await db.execute(sql`
    insert into vt_wake_cursor (budget, at) values (${budget}, ${at.toISOString()}::timestamptz)
    on conflict (budget) do update set at = excluded.at`);
}

/** Counts lookups that our cache answered instead of VirusTotal. */
export async function countSavedRequests(db: Executor, budget: string, n: number) {
  if (n <= 0) return;
  await db.execute(sql`
    insert into vt_usage (budget, period, count) values (${budget}, 'saved:' || ${day(sql`now()`)}, ${n})
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
      ${count(sql`'requests:' || ${day(sql`now()`)}`)} as today,
      ${count(sql`'requests:' || ${month(sql`now()`)}`)} as this_month,
      ${count(sql`'saved:' || ${day(sql`now()`)}`)} as saved_today`);
  return { lastMinute: row.last_minute, today: row.today, thisMonth: row.this_month, savedToday: row.saved_today };
}

/** The budget's pause, if it is still on at `at` (a claim's time), or now. */
export async function getActivePause(db: Executor, budget: string, atText?: string) {
  const at = atText ? sql`${atText}::timestamptz` : sql`now()`;
  const [pause] = await db.select().from(vtPause).where(and(eq(vtPause.budget, budget), gt(vtPause.until, at)));
  return pause ?? null;
}

/** Starts (or extends) the budget's pause; a pause that already ends later is kept. */
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

/** Ends the budget's pause if it has this cause; returns whether one ended. */
export async function endPause(db: Executor, budget: string, cause: PauseCause): Promise<boolean> {
  const rows = await db
    .delete(vtPause)
    .where(and(eq(vtPause.budget, budget), eq(vtPause.cause, cause), gt(vtPause.until, sql`now()`)))
    .returning({ budget: vtPause.budget });
  return rows.length > 0;
}
