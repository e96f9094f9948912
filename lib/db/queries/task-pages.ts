// Reading a job's tasks with the results they keep: keyset pages under filters and sorts, the change feed, and the
// export cursor. Every page is an index range (drizzle/0002): its cost does not grow with the job or the depth.
import { sql, type SQL } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import type { HashType } from "@/lib/hashes";
import type { VirusTotalSource } from "@/lib/env";
import type { Db, Executor } from "../client";
import { TASK_STATUSES, type TaskStatus } from "../schema";
import { toPgArray } from "./pg-array";

export interface TaskFilter {
  statuses?: readonly TaskStatus[];
  /** Fortinet gave a detection name. */
  fortinetDetected?: boolean;
  /** At least this many engines detected the file (0: no condition). */
  minDetected?: number;
  /** Lowercase hex: the submitted hash starts with it. */
  hashPrefix?: string;
}

export type TaskSort = "position" | "detections" | "scanDate";

export interface TaskOrder {
  sort: TaskSort;
  descending: boolean;
}

/** Where a page starts: after the row with this sort key (as text) and position. */
export interface TaskKey {
  key: string;
  position: number;
}

export type TaskRow = {
  position: number;
  hash: string;
  hashType: HashType;
  status: TaskStatus;
  error: string | null;
  /** ISO 8601, UTC. */
  retryAt: string | null;
  sha256: string | null;
  md5: string | null;
  sha1: string | null;
  source: VirusTotalSource | null;
  fortinet: string | null;
  fortinetCategory: string | null;
  detected: number | null;
  engines: number | null;
  /** ISO 8601, UTC. */
  scanDate: string | null;
  meaningfulName: string | null;
  fileType: string | null;
  /** The sort key of the page's order, as text, for the next page's cursor. */
  sortKey: string;
  /** The transaction that last wrote the row (xid8, as text). */
  changedXid: string;
};

// Each sort's key: a task without a value (every task but a completed one, and a completed one without a scan date)
// sorts as the lowest key. Only completed tasks are indexed by it (tasks_detections_idx, tasks_scan_date_idx are
// partial: a job's tasks are written pending, and two indexes fewer to fill made writing them cheaper), so a sorted
// read comes in two parts: the tasks above the lowest key, one range of the sort's index, and those at it in position
// order (ranges of tasks_job_status_position_idx, one per status, and the sort index's range at the lowest key).
// Descending is the exact reverse of ascending, ties included. `text` is the key as a cursor carries it, read back
// with `cast`.
const SORT_KEY: Record<TaskSort, { expr: SQL; cast: SQL; text: SQL }> = {
  position: { expr: sql`position`, cast: sql`int`, text: sql`position::text` },
  detections: { expr: sql`coalesce(detected, -1)`, cast: sql`int`, text: sql`coalesce(detected, -1)::text` },
  scanDate: {
    expr: sql`coalesce(scan_date, '-infinity'::timestamptz)`,
    cast: sql`timestamptz`,
    text: sql`coalesce(to_char(scan_date at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), '-infinity')`,
  },
};

/** The lowest key of each sort by a result, and whether a cursor's key (as decoded, lib/jobs/report.ts) is it. */
const LOWEST: Record<Exclude<TaskSort, "position">, { value: SQL; is: (key: string) => boolean }> = {
  detections: { value: sql`-1`, is: (key) => Number(key) === -1 },
  scanDate: { value: sql`'-infinity'::timestamptz`, is: (key) => key === "-infinity" },
};

const NOT_COMPLETED = TASK_STATUSES.filter((status) => status !== "completed");

const iso = (column: SQL) => sql`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

function columns(sortKey: SQL) {
  return sql`
    position, hash, hash_type as "hashType", status, error, ${iso(sql`retry_at`)} as "retryAt", sha256, md5, sha1,
    source, fortinet, fortinet_category as "fortinetCategory", detected, engines, ${iso(sql`scan_date`)} as "scanDate",
    meaningful_name as "meaningfulName", file_type as "fileType", ${sortKey} as "sortKey",
    changed_xid::text as "changedXid"`;
}

function filterSql(jobId: string, filter: TaskFilter): SQL {
  const parts: SQL[] = [sql`job_id = ${jobId}`];
  const statuses = filter.statuses ?? [];
  if (statuses.length === 1) parts.push(sql`status = ${statuses[0]}`);
  else if (statuses.length > 1) parts.push(sql`status = any(${toPgArray(statuses)}::text[])`);
  // Written as the partial indexes' own predicates, so the planner picks them whatever the parameters.
  if (filter.fortinetDetected) parts.push(sql`fortinet is not null`);
  if (filter.minDetected && filter.minDetected > 0) parts.push(sql`detected > 0 and detected >= ${filter.minDetected}`);
  if (filter.hashPrefix) {
    // Lowercase hex under the C collation: every hash starting with p lies in [p, p + "g").
    parts.push(sql`hash collate "C" >= ${filter.hashPrefix} and hash collate "C" < ${`${filter.hashPrefix}g`}`);
  }
  return sql.join(parts, sql` and `);
}

/**
 * One part of a read, in the read's order: `page(n)` its first n rows as one statement, `all` every row (an export's).
 * The parts of a read follow each other: a page reads the next part only when the ones before leave it room.
 */
interface ReadPart {
  page(limit: number): SQL;
  all: SQL;
}

function readParts(jobId: string, filter: TaskFilter, order: TaskOrder, after?: TaskKey): ReadPart[] {
  const { expr, cast, text } = SORT_KEY[order.sort];
  const where = filterSql(jobId, filter);
  const direction = order.descending ? sql`desc` : sql`asc`;
  const comparison = order.descending ? sql`<` : sql`>`;
  const statuses = filter.statuses?.length ? filter.statuses : TASK_STATUSES;
  const byPosition = (condition: SQL): ReadPart => ({
    page: (limit) => sql`select ${columns(text)} from tasks where ${where} and ${condition} order by position ${direction} limit ${limit}`,
    all: sql`select ${columns(text)} from tasks where ${where} and ${condition} order by position ${direction}`,
  });
  const afterPosition = (alsoWhen: boolean) => (after && alsoWhen ? sql`position ${comparison} ${after.position}` : sql`true`);
  // Among tasks that are not completed every key is the lowest: the order is the position's alone.
  if (order.sort === "position" || !statuses.includes("completed")) return [byPosition(afterPosition(true))];

  const lowest = LOWEST[order.sort].value;
  const afterLowest = after !== undefined && LOWEST[order.sort].is(after.key);
  const valued: ReadPart = {
    page: (limit) => sql`
      select ${columns(text)} from tasks
      where ${where} and status = 'completed' and ${expr} > ${lowest}
        and ${after && !afterLowest ? sql`(${expr}, position) ${comparison} (${after.key}::${cast}, ${after.position})` : sql`true`}
      order by ${expr} ${direction}, position ${direction} limit ${limit}`,
    all: sql`
      select ${columns(text)} from tasks where ${where} and status = 'completed' and ${expr} > ${lowest}
      order by ${expr} ${direction}, position ${direction}`,
  };
  // The tasks at the lowest key: those not completed (none under a filter that only a result meets, as only a completed
  // task has one: tasks_result_only_when_completed_check), and completed ones without a scan date (every completed
  // task has a detection count).
  const onlyResults = filter.fortinetDetected || (filter.minDetected ?? 0) > 0;
  const ranges: SQL[] = (onlyResults ? [] : NOT_COMPLETED.filter((status) => statuses.includes(status))).map((status) => sql`status = ${status}`);
  if (order.sort === "scanDate") ranges.push(sql`status = 'completed' and ${expr} = ${lowest}`);
  const atLowest = afterPosition(afterLowest);
  const lowestPart: ReadPart = {
    // One index range per status, each cut to the page, merged by position.
    page: (limit) => sql`
      select * from (${sql.join(
        ranges.map((range) => sql`(select ${columns(text)} from tasks where ${where} and ${range} and ${atLowest} order by position ${direction} limit ${limit})`),
        sql` union all `,
      )}) lowest
      order by position ${direction} limit ${limit}`,
    // An export reads every row anyway: one walk of the job in position order.
    all: sql`
      select ${columns(text)} from tasks where ${where} and (${sql.join(ranges.map((range) => sql`(${range})`), sql` or `)})
      order by position ${direction}`,
  };
  // Ascending, the lowest key comes first; a cursor past it leaves only valued tasks. Descending, the reverse.
  const parts = order.descending ? [...(afterLowest ? [] : [valued]), lowestPart] : [...(after && !afterLowest ? [] : [lowestPart]), valued];
  return parts.filter((part) => part !== lowestPart || ranges.length > 0);
}

/** One page of a job's tasks under a filter and an order, after a row of the previous page. */
export async function listTaskPage(
  db: Executor,
  jobId: string,
  page: { filter: TaskFilter; order: TaskOrder; after?: TaskKey; limit: number },
): Promise<TaskRow[]> {
  const rows: TaskRow[] = [];
  for (const part of readParts(jobId, page.filter, page.order, page.after)) {
    rows.push(...(await db.execute<TaskRow>(part.page(page.limit - rows.length))));
    if (rows.length >= page.limit) break;
  }
  return rows;
}

/**
 * A window of the change feed: rows last written by transactions in [from, to), after (xid, position) when paging.
 * `to` is the oldest transaction still running when the window was opened (readChangeHorizon): every transaction
 * below it has ended, so the window's rows are final — none can commit into it later — and the next window starts
 * where this one ends. A row written again shows up again, in a later window.
 */
export interface ChangeWindow {
  from: string;
  to: string;
  after?: { xid: string; position: number };
}

/**
 * The oldest transaction still running, as this snapshot sees it: every transaction below it has ended, and the
 * rows it wrote are visible to this snapshot if it committed. Read it in the transaction that reads the rows.
 */
export async function readChangeHorizon(db: Executor): Promise<string> {
  const [row] = await db.execute<{ horizon: string }>(sql`select pg_snapshot_xmin(pg_current_snapshot())::text as horizon`);
  return row.horizon;
}

/** The tasks of a window of the change feed, in (transaction, position) order. */
export async function listChangedTasks(db: Executor, jobId: string, feed: { window: ChangeWindow; limit: number }): Promise<TaskRow[]> {
  const { from, to, after } = feed.window;
  const start = after ? sql`(changed_xid, position) > (${after.xid}::xid8, ${after.position})` : sql`true`;
  return db.execute<TaskRow>(sql`
    select ${columns(SORT_KEY.position.text)} from tasks
    where job_id = ${jobId} and changed_xid >= ${from}::xid8 and changed_xid < ${to}::xid8 and ${start}
    order by changed_xid, position
    limit ${feed.limit}`);
}

const dialect = new PgDialect();

/**
 * Every task of a job under a filter and an order, read through a server-side cursor in one read-only snapshot,
 * `batch` rows at a time: memory stays flat whatever the job's size. Stop iterating to close the cursor.
 */
export async function* streamTasks(db: Db, jobId: string, query: { filter: TaskFilter; order: TaskOrder; batch: number }) {
  const statements = readParts(jobId, query.filter, query.order).map((part) => dialect.sqlToQuery(part.all));
  const client = db.$client;
  const reserved = await client.reserve();
  try {
    await reserved`begin isolation level repeatable read read only`;
    // A cursor's statement runs from its first batch to its last, paced by the reader: the connection's statement
    // timeout would cut a slow download off mid-file. The export's own timeouts bound it (lib/jobs/export.ts).
    await reserved`set local statement_timeout = 0`;
    try {
      for (const statement of statements) {
        for await (const rows of reserved.unsafe<TaskRow[]>(statement.sql, statement.params as never[]).cursor(query.batch)) {
          yield rows;
        }
      }
    } finally {
      await reserved`commit`;
    }
  } finally {
    reserved.release();
  }
}
