// The request budget's rows: requests in the sliding window (and its counter), day and month counters, pauses, the
// wake cursor.
// SQL only: the rules that decide with them live in lib/budget/.
import { and, eq, gt, sql } from "drizzle-orm";
import { driverOf, type Executor, type SqlExecutor } from "../client";
import { vtPause, type PauseCause } from "../schema";

const day = (at: ReturnType<typeof sql>) => sql`'day:' || to_char(${at} at time zone 'utc', 'YYYY-MM-DD')`;
const month = (at: ReturnType<typeof sql>) => sql`'month:' || to_char(${at} at time zone 'utc', 'YYYY-MM')`;

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

export interface Claim {
  /** The request was free and is recorded. */
  granted: boolean;
  /** The budget's pause, when one is on at the claim's time. */
  pause: { until: Date; cause: PauseCause; reason: string } | null;
  state: BudgetState;
  /** The claim's time, as Postgres text (microseconds kept): what any write that follows it uses. */
  at: string;
}

/**
 * A claim on the budget: the function hashscan_claim_request (drizzle/0010_budget_claim_function.sql) takes the
 * budget's lock, held until the caller's transaction commits, and records the request when it is free; otherwise it
 * writes nothing and returns the state, for decideSlot to say why and until when. Every time it checks or records is
 * the time after the lock. Prepared: a Drizzle query with parameters is unnamed, and postgres.js asks the server for
 * its parameter types first, a round trip more.
 */
export async function claimRequest(db: SqlExecutor, budget: string, limits: ClaimLimits, windowMs: number): Promise<Claim> {
  const [row] = await driverOf(db)<ClaimRow[]>`
    select * from hashscan_claim_request(${budget}::text, ${limits.perMinute}::int, ${limits.perDay}::int, ${limits.perMonth}::int, ${windowMs}::float8)`.execute();
  return {
    at: row.at,
    granted: row.granted,
    pause: row.pause_until ? { until: new Date(row.pause_until), cause: row.pause_cause!, reason: row.pause_reason! } : null,
    state: {
      inWindow: row.in_window,
      windowFreeAt: row.window_free_at,
      day: row.day,
      month: row.month,
      nextDay: row.next_day,
      nextMonth: row.next_month,
      wakeCursor: row.wake_cursor,
    },
  };
}

export type ClaimLimits = { perMinute: number; perDay: number; perMonth: number };

interface ClaimRow {
  at: string; granted: boolean; pause_until: string | null; pause_cause: PauseCause | null; pause_reason: string | null;
  in_window: number; window_free_at: number | null; day: number; month: number; next_day: number; next_month: number; wake_cursor: number | null;
}

/**
 * A time given in epoch microseconds, exactly: the wake cursor is compared with the requests' own times, and a float
 * of seconds (to_timestamp) can land a microsecond off at today's epoch.
 */
const fromEpochUs = (us: number) =>
  sql`(timestamptz 'epoch' + ${Math.floor(us / 1e6)}::bigint * interval '1 second' + ${us % 1e6}::int * interval '1 microsecond')`;

/** `at` is in epoch microseconds, kept exact (fromEpochUs). */
export async function setWakeCursor(db: Executor, budget: string, atUs: number) {
  await db.execute(sql`
    insert into vt_wake_cursor (budget, at) values (${budget}, ${fromEpochUs(atUs)})
    on conflict (budget) do update set at = excluded.at`);
}

/**
 * The time of the budget's first request recorded after `afterUs`, both in epoch microseconds; null when there is
 * none. One probe of vt_requests (budget, at): where the window's next slot frees after a wake already handed out
 * (lib/budget/slot.ts).
 */
export async function firstRequestAfter(db: Executor, budget: string, afterUs: number): Promise<number | null> {
  const [row] = await db.execute<{ at_us: string }>(sql`
    select (extract(epoch from at) * 1000000)::bigint::text as at_us from vt_requests
    where budget = ${budget} and at > ${fromEpochUs(afterUs)}
    order by at
    limit 1`);
  return row ? Number(row.at_us) : null;
}

/** Counts lookups that our cache answered instead of VirusTotal (drizzle/0011_settle_function.sql: a lookup's settle does too). */
export async function countSavedRequests(db: SqlExecutor, budget: string, n: number) {
  if (n <= 0) return;
  await driverOf(db)`select hashscan_count_saved_requests(${budget}::text, ${n}::int)`.execute();
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
