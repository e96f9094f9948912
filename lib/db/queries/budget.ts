// The request budget's rows: requests in the sliding window (and its counter), day and month counters, pauses, the
// wake cursor.
// SQL only: the rules that decide with them live in lib/budget/.
import { and, eq, gt, sql } from "drizzle-orm";
import type postgres from "postgres";
import { driverOf, type Executor, type SqlExecutor } from "../client";
import { vtPause, type PauseCause } from "../schema";

const day = (at: ReturnType<typeof sql>) => sql`'day:' || to_char(${at} at time zone 'utc', 'YYYY-MM-DD')`;
const month = (at: ReturnType<typeof sql>) => sql`'month:' || to_char(${at} at time zone 'utc', 'YYYY-MM')`;

/**
 * Serialises every claim on a budget: a transaction-scoped advisory lock, held until the claim commits. Sent by
 * postgres.js as a prepared statement, so that it and the claim go out together (a Drizzle query with parameters is
 * unnamed, and postgres.js asks the server for its parameter types first: a round trip more, and nothing pipelined).
 */
export async function lockBudget(db: SqlExecutor, budget: string, onlyIf?: postgres.Fragment): Promise<void> {
  const driver = driverOf(db);
  await driver`select pg_advisory_xact_lock(hashtext('hashscan:vt-budget:' || ${budget}::text)) where ${onlyIf ?? driver`true`}`.execute();
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
 * A claim, in one statement run after the budget's lock (lockBudget) and so at the time after it: reads the pause,
 * the day's and month's counters and the requests in the sliding window, and when the request is free (no pause,
 * every count under its limit: decideSlot's grant, lib/budget/slot.ts) records it. Otherwise it writes nothing and
 * returns the state for decideSlot to say why and until when.
 *
 * It costs the same at any limit and any rate: the window's count is kept as a vt_usage counter, `window@<µs of the
 * budget's newest request>` = its requests after (newest − window), so a claim reads only the requests that left
 * the window since the newest one (each request is read once on its way out), plus two index probes. The counter
 * is keyed by the newest request it was counted at: a request recorded any other way (by hand, a test) changes the
 * newest, finds no counter, and the window is counted whole once, as before. When the window is full, the moment it
 * frees is one index probe (its oldest request) while it holds exactly the limit.
 */
export async function claimRequest(db: Executor, budget: string, limits: ClaimLimits, windowMs: number): Promise<Claim> {
  return (await claimRequestIf(db, budget, limits, windowMs))!;
}

type ClaimLimits = { perMinute: number; perDay: number; perMonth: number };

/**
 * claimRequest, made only while `onlyIf` holds at the claim's time (after the lock, which lockBudget took under the
 * same condition); null when it does not, and then nothing is read or written.
 */
export async function claimRequestIf(
  db: SqlExecutor,
  budget: string,
  limits: ClaimLimits,
  windowMs: number,
  onlyIf?: postgres.Fragment,
): Promise<Claim | null> {
  // Prepared, as lockBudget: sent together with it (see there).
  const q = driverOf(db);
  const window = q`make_interval(secs => ${windowMs / 1000}::float8)`;
  // Requests are forgotten after twice the window, never sooner than ten minutes (the status page and the rate
  // measurements read them): always long out of the window that ends at the request being recorded.
  const keep = q`make_interval(secs => ${Math.max(600, (2 * windowMs) / 1000)}::float8)`;
  const counter = (m: string) => q.unsafe(`'window@' || (extract(epoch from ${m}) * 1000000)::bigint::text`);
  const period = (alias: string, unit: "day" | "month") =>
    q.unsafe(`'requests:${unit}:' || to_char(${alias}.at at time zone 'utc', '${unit === "day" ? "YYYY-MM-DD" : "YYYY-MM"}')`);
  const [row] = await q<{
    at: string; granted: boolean; pause_until: string | null; pause_cause: PauseCause | null; pause_reason: string | null;
    in_window: number; window_free_at: number | null; day: number; month: number; next_day: number; next_month: number; wake_cursor: number | null;
  }[]>`
    with clock as materialized (select clock_timestamp() as at where ${onlyIf ?? q`true`}),
    newest as materialized (
      select c.at, (select max(r.at) from vt_requests r where r.budget = ${budget}::text) as m from clock c
    ),
    counted as materialized (
      select n.at, n.m, k.count as kept,
        coalesce(k.count, (select count(*)::int from vt_requests r where r.budget = ${budget}::text and r.at > n.m - ${window})) as by_newest
      from newest n
      left join vt_usage k on k.budget = ${budget}::text and k.period = ${counter("n.m")}
    ),
    state as materialized (
      select c.at, c.m, c.kept, c.by_newest,
        case
          when c.m is null then 0
          -- Those counted by the newest request, less those that have left the window since.
          when c.at >= c.m then c.by_newest - (
            select count(*)::int from vt_requests r where r.budget = ${budget}::text and r.at > c.m - ${window} and r.at <= c.at - ${window})
          else (select count(*)::int from vt_requests r where r.budget = ${budget}::text and r.at > c.at - ${window})
        end as in_window,
        coalesce((select u.count from vt_usage u where u.budget = ${budget}::text and u.period = ${period("c", "day")}), 0) as day,
        coalesce((select u.count from vt_usage u where u.budget = ${budget}::text and u.period = ${period("c", "month")}), 0) as month,
        p.until as pause_until, p.cause as pause_cause, p.reason as pause_reason
      from counted c
      left join vt_pause p on p.budget = ${budget}::text and p.until > c.at
    ),
    granted as materialized (
      select * from state
      where pause_until is null and month < ${limits.perMonth}::int and day < ${limits.perDay}::int and in_window < ${limits.perMinute}::int
    ),
    recorded as (insert into vt_requests (budget, at) select ${budget}::text, g.at from granted g returning 1),
    spent as (
      insert into vt_usage (budget, period, count)
      select ${budget}::text, p.period, 1
      from granted c, lateral (values (${period("c", "day")}), (${period("c", "month")})) p(period)
      on conflict (budget, period) do update set count = vt_usage.count + 1
      returning 1
    ),
    -- The window's counter moves to the new newest request; a state read without one keeps what it counted.
    counter_dropped as (
      delete from vt_usage k using granted g
      where k.budget = ${budget}::text and g.m is not null and g.m <> g.at and k.period = ${counter("g.m")}
      returning 1
    ),
    counter_moved as (
      insert into vt_usage (budget, period, count)
      select ${budget}::text, ${counter("g.at")}, g.in_window + 1 from granted g
      on conflict (budget, period) do update set count = excluded.count
      returning 1
    ),
    counter_kept as (
      insert into vt_usage (budget, period, count)
      select ${budget}::text, ${counter("s.m")}, s.by_newest from state s
      where s.kept is null and s.m is not null and not exists (select 1 from granted)
      on conflict (budget, period) do nothing
      returning 1
    ),
    forgotten as (
      delete from vt_requests r using granted g where r.budget = ${budget}::text and r.at < g.at - ${keep}
      returning 1
    )
    select
      s.at::text as at,
      exists (select 1 from granted) as granted,
      s.pause_until::text as pause_until, s.pause_cause, s.pause_reason,
      s.in_window, s.day, s.month,
      -- When full: the oldest request of the window leaves it first (a probe); past the limit (a limit lowered), the
      -- one perMinute back from the newest.
      (select extract(epoch from r.at) * 1000 + ${windowMs}::float8 from vt_requests r
        where s.in_window >= ${limits.perMinute}::int and r.budget = ${budget}::text and r.at > s.at - ${window}
        order by r.at offset greatest(s.in_window - ${limits.perMinute}::int, 0) limit 1)::float8 as window_free_at,
      (extract(epoch from date_trunc('day', s.at at time zone 'utc') + interval '1 day') * 1000)::float8 as next_day,
      (extract(epoch from date_trunc('month', s.at at time zone 'utc') + interval '1 month') * 1000)::float8 as next_month,
      (select extract(epoch from w.at) * 1000 from vt_wake_cursor w where w.budget = ${budget}::text and w.at > s.at)::float8 as wake_cursor
    from state s`.execute();
  if (!row) return null;
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

/** Counts lookups that our cache answered instead of VirusTotal. Prepared: a lookup's settling sends it (worker/settle.ts). */
export async function countSavedRequests(db: SqlExecutor, budget: string, n: number) {
  if (n <= 0) return;
  await driverOf(db)`
    insert into vt_usage (budget, period, count)
    values (${budget}::text, 'saved:day:' || to_char(now() at time zone 'utc', 'YYYY-MM-DD'), ${n}::int)
    on conflict (budget, period) do update set count = vt_usage.count + excluded.count`.execute();
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
