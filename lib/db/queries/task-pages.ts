// Reading a job's tasks with the results they keep: keyset pages under filters and sorts, the change feed, and the
// export cursor. Every page is an index range (drizzle/0002): its cost does not grow with the job or the depth.
import { sql, type SQL } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import type { HashType } from "@/lib/hashes";
import type { VirusTotalSource } from "@/lib/env";
import type { Db, Executor } from "../client";
import type { TaskStatus } from "../schema";
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

// Each sort's key, exactly as indexed (tasks_detections_idx, tasks_scan_date_idx): a row without a value sorts as
// the lowest. Descending is the exact reverse of ascending (ties too), so both are one index range.
// `text` is the key as a cursor carries it, read back with `cast`.
const SORT_KEY: Record<TaskSort, { expr: SQL; cast: SQL; text: SQL }> = {
  position: { expr: sql`position`, cast: sql`int`, text: sql`position::text` },
  detections: { expr: sql`coalesce(detected, -1)`, cast: sql`int`, text: sql`coalesce(detected, -1)::text` },
  scanDate: {
    expr: sql`coalesce(scan_date, '-infinity'::timestamptz)`,
    cast: sql`timestamptz`,
    text: sql`coalesce(to_char(scan_date at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), '-infinity')`,
  },
};

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

function orderSql(order: TaskOrder, filter: TaskFilter, after?: TaskKey): { where: SQL; orderBy: SQL; key: SQL } {
  const { expr, cast, text } = SORT_KEY[order.sort];
  // Only completed tasks carry detections and scan dates: among the others, every key is the lowest, and the order
  // is the position's alone — an index range on (job_id, status, position) instead of a walk past other rows.
  const statuses = filter.statuses ?? [];
  const keyIsConstant = order.sort !== "position" && statuses.length > 0 && !statuses.includes("completed");
  const ordered = order.sort === "position" || keyIsConstant ? sql`position` : expr;
  const direction = order.descending ? sql`desc` : sql`asc`;
  const orderBy = ordered === expr ? sql`${expr} ${direction}, position ${direction}` : sql`position ${direction}`;
  // Completed tasks always have a detection count: their part of the index starts at 0.
  const bound = order.sort === "detections" && statuses.length === 1 && statuses[0] === "completed" ? sql`${expr} >= 0` : sql`true`;
  if (!after) return { where: bound, orderBy, key: text };
  const comparison = order.descending ? sql`<` : sql`>`;
  const where =
    ordered === expr
      ? sql`${bound} and (${expr}, position) ${comparison} (${after.key}::${cast}, ${after.position})`
      : sql`position ${comparison} ${after.position}`;
  return { where, orderBy, key: text };
}

/** One page of a job's tasks under a filter and an order, after a row of the previous page. */
export async function listTaskPage(
  db: Executor,
  jobId: string,
  page: { filter: TaskFilter; order: TaskOrder; after?: TaskKey; limit: number },
): Promise<TaskRow[]> {
  const { where, orderBy, key } = orderSql(page.order, page.filter, page.after);
  return db.execute<TaskRow>(sql`
    select ${columns(key)} from tasks
    where ${filterSql(jobId, page.filter)} and ${where}
    order by ${orderBy}
    limit ${page.limit}`);
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
  const { where, orderBy, key } = orderSql(query.order, query.filter);
  const statement = dialect.sqlToQuery(sql`
    select ${columns(key)} from tasks where ${filterSql(jobId, query.filter)} and ${where} order by ${orderBy}`);
  const client = db.$client;
  const reserved = await client.reserve();
  try {
    await reserved`begin isolation level repeatable read read only`;
    // A cursor's statement runs from its first batch to its last, paced by the reader: the connection's statement
    // timeout would cut a slow download off mid-file. The export's own timeouts bound it (lib/jobs/export.ts).
    await reserved`set local statement_timeout = 0`;
    try {
      for await (const rows of reserved.unsafe<TaskRow[]>(statement.sql, statement.params as never[]).cursor(query.batch)) {
        yield rows;
      }
    } finally {
      await reserved`commit`;
    }
  } finally {
    reserved.release();
  }
}
