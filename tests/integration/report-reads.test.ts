// Report reads that do not grow with the job: counts kept by triggers (and folded), keyset pages under every
// filter and sort, the change feed (a late commit is never skipped), the ETag, and the streamed export.
import { sql, type SQL } from "drizzle-orm";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../lib/db/client";
import { listTaskPage, streamTasks } from "../../lib/db/queries/task-pages";
import * as schema from "../../lib/db/schema";
import { foldCountDeltas, readJobCounts } from "../../lib/db/queries/job-counts";
import { findJob } from "../../lib/db/queries/jobs";
import { completeTasksForFile, failTasks, markTasksNotFound, noteTasksWaiting } from "../../lib/db/queries/tasks";
import { createJob, type CreateJobOptions } from "../../lib/jobs/create";
import { exportResponse } from "../../lib/jobs/export";
import { cancelJob } from "../../lib/jobs/manage";
import { reportQuerySchema, exportQuerySchema, type JobReport } from "../../lib/jobs/api-schema";
import { buildJobReport, planReport, readReportEtag, readReportState, reportEtag, toTaskFilter, toTaskOrder } from "../../lib/jobs/report";
import type { ReportSummary } from "../../lib/virustotal";
import { createTestDatabase, type TestDatabase } from "./helpers/test-database";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase("report_reads");
});
afterAll(async () => t?.drop());

const options: CreateJobOptions = { cache: { ttlHours: 24, sources: ["virustotal", "simulator"] }, lookupMaxAttempts: 5 };
const md5 = (i: number, prefix = "a") => prefix + i.toString(16).padStart(32 - prefix.length, "0");

/** A report for an MD5, with a detection count and scan date derived from i (some without a date). */
function summary(hash: string, i: number): ReportSummary {
  return {
    md5: hash,
    sha1: `${hash}00000000`,
    sha256: `${hash}${hash}`,
    fortinet: i % 3 === 0 ? `W32/Test.${i}!tr` : null,
    fortinetCategory: i % 3 === 0 ? "malicious" : "undetected",
    detected: i % 7,
    engines: 60 + (i % 5),
    scanDate: i % 4 === 0 ? null : new Date(Date.UTC(2025, 0, 1) + (i % 50) * 3_600_000),
    meaningfulName: i === 1 ? "=HYPERLINK(\"http://x\")" : `file${i}.exe`,
    fileType: "Win32 EXE",
  };
}

async function actualCounts(jobId: string) {
  const rows = await t.sql<{ status: string; n: number }[]>`select status, count(*)::int as n from tasks where job_id = ${jobId} group by status`;
  const byStatus = Object.fromEntries(rows.map((r) => [r.status, r.n]));
  return {
    pending: byStatus.pending ?? 0,
    completed: byStatus.completed ?? 0,
    notFound: byStatus.not_found ?? 0,
    failed: byStatus.failed ?? 0,
    cancelled: byStatus.cancelled ?? 0,
  };
}

async function report(jobId: string, params: Record<string, string> = {}): Promise<{ report: JobReport; etag: string }> {
  const job = (await findJob(t.db, jobId))!;
  return buildJobReport(t.db, job, reportQuerySchema.parse(params));
}

describe("job counts kept by triggers", () => {
  it("match the tasks through every kind of write, before and after folding", async () => {
    const hashes = Array.from({ length: 40 }, (_, i) => md5(i, "b"));
    const { id } = await createJob(t.db, { hashes }, options);
    const check = async () => {
      const { changes, ...counts } = await readJobCounts(t.db, id);
      expect(counts).toEqual(await actualCounts(id));
      return changes;
    };
    expect(await check()).toBe(40);
    for (let i = 0; i < 10; i++) await completeTasksForFile(t.db, summary(hashes[i], i), "simulator");
    await markTasksNotFound(t.db, hashes[10]);
    await failTasks(t.db, hashes[11], "boom");
    await noteTasksWaiting(t.db, hashes[12], { error: "waiting", retryAt: new Date(Date.now() + 60_000) });
    // Writing a finished task again changes nothing: the trigger sees no row.
    await completeTasksForFile(t.db, summary(hashes[0], 0), "simulator");
    const before = await check();
    expect(before).toBe(40 + 13);
    expect(await foldCountDeltas(t.db)).toBeGreaterThan(0);
    expect(await check()).toBe(before);
    await cancelJob(t.db, id);
    await check();
    await foldCountDeltas(t.db);
    expect(await check()).toBe(before + 28);
  });

  it("stay right when lookups settle at once across jobs that share files, in opposite orders, without deadlock", async () => {
    const shared = Array.from({ length: 30 }, (_, i) => md5(i, "c"));
    const a = await createJob(t.db, { hashes: shared }, options);
    const b = await createJob(t.db, { hashes: [...shared].reverse() }, options);
    // 30 transactions at once, each settling one file in both jobs, half of them touching the jobs' rows in the
    // opposite order, with a fold running in the middle.
    const settles = shared.map((hash, i) =>
      t.db.transaction(async (tx) => {
        if (i % 2) {
          await tx.execute(`update tasks set error = 'x', changed_xid = pg_current_xact_id() where hash = '${hash}' and job_id = '${b.id}'`);
        }
        await completeTasksForFile(tx, summary(hash, i), "simulator");
      }),
    );
    await Promise.all([...settles, foldCountDeltas(t.db)]);
    await foldCountDeltas(t.db);
    for (const id of [a.id, b.id]) {
      const { changes, ...counts } = await readJobCounts(t.db, id);
      expect(counts).toEqual({ pending: 0, completed: 30, notFound: 0, failed: 0, cancelled: 0 });
      expect(changes).toBeGreaterThanOrEqual(60);
    }
  });
});

describe("keyset pages under filters and sorts", () => {
  const n = 230;
  const hashes = Array.from({ length: n }, (_, i) => md5(i, "d"));
  let id: string;
  beforeAll(async () => {
    ({ id } = await createJob(t.db, { hashes }, options));
    // Three in four get a report; the rest stay pending, fail or are not found.
    for (let i = 0; i < n; i++) {
      if (i % 4 !== 3) await completeTasksForFile(t.db, summary(hashes[i], i), "simulator");
      else if (i % 8 === 3) await failTasks(t.db, hashes[i], "nope");
      else if (i % 16 === 7) await markTasksNotFound(t.db, hashes[i]);
    }
    await t.sql`analyze tasks`;
  });

  async function walk(params: Record<string, string>, limit = 17) {
    const positions: number[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages <= n; pages++) {
      const { report: r } = await report(id, { ...params, limit: String(limit), ...(cursor ? { cursor } : {}) });
      positions.push(...r.results.map((x) => x.position));
      if (!r.nextCursor) return positions;
      cursor = r.nextCursor;
    }
    throw new Error("did not end");
  }

  async function expected(where: string, orderBy: string) {
    const rows = await t.sql<{ position: number }[]>`
      select position from tasks where job_id = ${id} and ${t.sql.unsafe(where)} order by ${t.sql.unsafe(orderBy)}`;
    return rows.map((r) => r.position);
  }

  const cases: [string, Record<string, string>, string, string][] = [
    ["position", {}, "true", "position"],
    ["position desc", { order: "desc" }, "true", "position desc"],
    ["detections (most first)", { sort: "detections" }, "true", "coalesce(detected, -1) desc, position desc"],
    ["detections asc", { sort: "detections", order: "asc" }, "true", "coalesce(detected, -1), position"],
    ["scan date (newest first)", { sort: "scanDate" }, "true", "coalesce(scan_date, '-infinity') desc, position desc"],
    ["scan date asc", { sort: "scanDate", order: "asc" }, "true", "coalesce(scan_date, '-infinity'), position"],
    ["status failed", { status: "failed" }, "status = 'failed'", "position"],
    ["statuses pending,not_found", { status: "pending,not_found" }, "status in ('pending', 'not_found')", "position"],
    ["Fortinet detected", { fortinet: "detected" }, "fortinet is not null", "position"],
    ["at least 4 engines, by detections", { minDetected: "4", sort: "detections" }, "detected >= 4", "detected desc, position desc"],
    ["hash prefix, any case", { hash: "D00000000000000000000000000000" }, "hash like 'd00000000000000000000000000000%'", "position"],
    ["pending, by detections (all alike: by position)", { status: "pending", sort: "detections" }, "status = 'pending'", "position desc"],
    ["completed, by detections asc", { status: "completed", sort: "detections", order: "asc" }, "status = 'completed'", "detected, position"],
    ["failed or not found, by scan date asc", { status: "failed,not_found", sort: "scanDate", order: "asc" }, "status in ('failed', 'not_found')", "position"],
    ["prefix + completed + scan date", { hash: "d", status: "completed", sort: "scanDate" }, "status = 'completed'", "scan_date desc nulls last, position desc"],
    // Completed tasks come from the sort's index, the others (and those without a scan date) by status and position.
    ["completed or pending, by scan date asc", { status: "completed,pending", sort: "scanDate", order: "asc" }, "status in ('completed', 'pending')", "coalesce(scan_date, '-infinity'), position"],
    ["completed or failed, by detections", { status: "failed,completed", sort: "detections" }, "status in ('completed', 'failed')", "coalesce(detected, -1) desc, position desc"],
    ["Fortinet detected, by scan date asc", { fortinet: "detected", sort: "scanDate", order: "asc" }, "fortinet is not null", "coalesce(scan_date, '-infinity'), position"],
    ["Fortinet detected, by scan date", { fortinet: "detected", sort: "scanDate" }, "fortinet is not null", "coalesce(scan_date, '-infinity') desc, position desc"],
    ["at least 1 engine, by scan date asc", { minDetected: "1", sort: "scanDate", order: "asc" }, "detected >= 1", "coalesce(scan_date, '-infinity'), position"],
    ["prefix, by detections asc", { hash: "d00000000000000000000000000000a", sort: "detections", order: "asc" }, "hash like 'd00000000000000000000000000000a%'", "coalesce(detected, -1), position"],
  ];
  for (const [name, params, where, orderBy] of cases) {
    it(`pages through ${name}: every row once, in order`, async () => {
      const want = await expected(where, orderBy);
      expect(want.length).toBeGreaterThan(0);
      expect(await walk(params)).toEqual(want);
    });
  }

  it("pages across the border between completed tasks and the others at every page size, and exports in the same order", async () => {
    for (const [sort, order, orderBy] of [
      ["detections", "desc", "coalesce(detected, -1) desc, position desc"],
      ["detections", "asc", "coalesce(detected, -1), position"],
      ["scanDate", "desc", "coalesce(scan_date, '-infinity') desc, position desc"],
      ["scanDate", "asc", "coalesce(scan_date, '-infinity'), position"],
    ]) {
      const want = await expected("true", orderBy);
      // Pages that end just before, at and just after the border (57 tasks not completed, 58 completed without a scan
      // date: 57 or 115 at the lowest key, 173 or 115 above it), and one that crosses it in the middle.
      for (const limit of [7, 56, 57, 58, 114, 115, 116, 172, 173, 174]) expect(await walk({ sort, order }, limit)).toEqual(want);
      const query = reportQuerySchema.parse({ sort, order });
      const streamed: number[] = [];
      for await (const batch of streamTasks(t.db, id, { filter: toTaskFilter(query), order: toTaskOrder(query), batch: 50 })) {
        streamed.push(...batch.map((row) => row.position));
      }
      expect(streamed).toEqual(want);
    }
  }, 180_000);

  it("keeps results to completed tasks, each with a detection count: the sorts and the result filters rely on it", async () => {
    await expect(t.sql`update tasks set fortinet = 'W32/X' where job_id = ${id} and status = 'pending'`).rejects.toMatchObject({ code: "23514" });
    await expect(t.sql`update tasks set scan_date = now() where job_id = ${id} and status = 'failed'`).rejects.toMatchObject({ code: "23514" });
    await expect(t.sql`update tasks set detected = null where job_id = ${id} and status = 'completed'`).rejects.toMatchObject({ code: "23514" });
  });

  it("refuses a cursor replayed under another sort, and a forged one", async () => {
    const { report: first } = await report(id, { limit: "5" });
    await expect(report(id, { sort: "detections", cursor: first.nextCursor! })).rejects.toThrow(/another sort/);
    const forge = (text: string) => Buffer.from(text).toString("base64url");
    for (const [params, text] of [
      [{}, "position.a.1.1; drop table tasks"],
      [{ sort: "detections" }, "detections.d.1.9999999999"],
      [{ sort: "detections" }, "detections.d.9999999999.5"],
      [{ sort: "scanDate" }, "scanDate.d.1.2024-13-45T99:99:99.000000Z"],
      [{ sort: "scanDate" }, "scanDate.d.1.0000-01-01T00:00:00.000000Z"],
      [{ sort: "scanDate" }, "scanDate.d.1.2024-02-30T00:00:00.000000Z"],
    ] as [Record<string, string>, string][]) {
      await expect(report(id, { ...params, cursor: forge(text) })).rejects.toThrow(/not one this API returned/);
    }
  });

  it("reads a deep page of each sort as index ranges, never a scan of the job's rows", async () => {
    // A job large enough for the planner to prefer an index, three in four of its tasks completed as the bench does.
    const { id: big } = await createJob(t.db, { hashes: Array.from({ length: 20_000 }, (_, i) => md5(i, "a2")) }, options);
    await t.sql`
      update tasks set status = 'completed', md5 = hash, sha1 = left(hash || hash, 40), sha256 = hash || hash,
        source = 'simulator', detected = position % 70, engines = 70,
        scan_date = case when position % 8 = 0 then null else now() - position * interval '1 minute' end
      where job_id = ${big} and position % 4 <> 3`;
    await t.sql`update tasks set status = 'failed', error = 'nope' where job_id = ${big} and position % 8 = 3`;
    await t.sql`analyze tasks`;
    // Every statement a page runs, explained as it runs: the part above the lowest key from the sort's index, the
    // part at it by status and position.
    const explained: string[] = [];
    const explaining = {
      execute: async (query: SQL) => {
        explained.push(JSON.stringify(await t.db.execute(sql`explain (format json) ${query}`)));
        return t.db.execute(query);
      },
    } as unknown as Db;
    for (const [sort, index, column, keyText] of [
      ["detections", "tasks_detections_idx", "detected", "coalesce(detected, -1)::text"],
      ["scanDate", "tasks_scan_date_idx", "scan_date", `coalesce(to_char(scan_date at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), '-infinity')`],
    ] as const) {
      for (const descending of [true, false]) {
        // A page of 100 that starts 50 rows before the end of the first part, and runs on into the second.
        const direction = descending ? "desc" : "asc";
        const valuedFirst = descending;
        const [{ n }] = await t.sql<{ n: number }[]>`
          select count(*)::int as n from tasks
          where job_id = ${big} and ${t.sql.unsafe(`(status = 'completed' and ${column} is not null) = ${valuedFirst}`)}`;
        const [start] = await t.sql<{ position: number; key: string }[]>`
          select position, ${t.sql.unsafe(keyText)} as key from tasks where job_id = ${big}
          order by ${t.sql.unsafe(`coalesce(${column}, ${column === "detected" ? "-1" : "'-infinity'"}) ${direction}, position ${direction}`)}
          offset ${n - 51} limit 1`;
        explained.length = 0;
        const rows = await listTaskPage(explaining, big, { filter: {}, order: { sort, descending }, after: start, limit: 100 });
        expect(rows).toHaveLength(100);
        expect(explained).toHaveLength(2);
        for (const plan of explained) {
          expect(plan).not.toContain("Seq Scan");
          expect(plan).not.toContain("Bitmap");
        }
        const [valued, lowest] = descending ? explained : [explained[1], explained[0]];
        expect(valued).toContain(index);
        expect(valued).not.toContain('"Sort"');
        expect(lowest).toContain("tasks_job_status_position_idx");
      }
    }
  });
});

describe("the change feed", () => {
  /** Opens a transaction that writes a row and stays open until released: a lookup settling slowly. */
  async function holdWrite(write: (tx: Parameters<Parameters<TestDatabase["db"]["transaction"]>[0]>[0]) => Promise<void>) {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let written!: () => void;
    const wrote = new Promise<void>((resolve) => (written = resolve));
    const done = t.db.transaction(async (tx) => {
      await write(tx);
      written();
      await held;
    });
    await wrote;
    return async () => {
      release();
      await done;
    };
  }

  async function follow(id: string, since: string, limit = 100) {
    const seen: [number, string][] = [];
    for (let polls = 0; polls < 50; polls++) {
      const { report: r } = await report(id, { since, limit: String(limit) });
      seen.push(...r.results.map((x) => [x.position, x.status] as [number, string]));
      since = r.changeCursor;
      if (!r.moreChanges) return { seen, since };
    }
    throw new Error("the feed never caught up");
  }

  it("never skips a row committed after a poll by a transaction that began before it", async () => {
    const hashes = Array.from({ length: 5 }, (_, i) => md5(i, "e"));
    const { id } = await createJob(t.db, { hashes }, options);
    const { report: first } = await report(id);

    // A lookup's transaction writes row 2 and stays open while another row changes and commits, and a poller asks.
    const commitLate = await holdWrite((tx) => completeTasksForFile(tx, summary(hashes[2], 2), "simulator"));
    await markTasksNotFound(t.db, hashes[4]);
    const second = await follow(id, first.changeCursor);
    // Nothing is final while the older transaction runs: row 4 waits for it rather than race past it.
    expect(second.seen).toEqual([]);

    await commitLate();
    const third = await follow(id, second.since);
    expect(third.seen).toEqual([
      [2, "completed"],
      [4, "not_found"],
    ]);
    expect((await follow(id, third.since)).seen).toEqual([]);
  });

  it("loses no row that commits while a burst of changes is being paged", async () => {
    const hashes = Array.from({ length: 6 }, (_, i) => md5(i, "a1"));
    const { id } = await createJob(t.db, { hashes }, options);
    const { report: start } = await report(id);
    for (let i = 1; i < 6; i++) await markTasksNotFound(t.db, hashes[i]);
    // Page 1 of the burst, then row 0 written and committed by a transaction that began meanwhile.
    const { report: page1 } = await report(id, { since: start.changeCursor, limit: "2" });
    expect(page1.moreChanges).toBe(true);
    const commit = await holdWrite((tx) => failTasks(tx, hashes[0], "late"));
    await commit();
    const rest = await follow(id, page1.changeCursor, 2);
    // Row 0's transaction began after the burst's window was fixed: it comes in the next window, at the next poll.
    const next = await follow(id, rest.since, 2);
    const seen = new Set([...page1.results, ...rest.seen, ...next.seen].map((r) => ("position" in r ? r.position : r[0])));
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("pages a burst of changes with moreChanges, each changed row once", async () => {
    const hashes = Array.from({ length: 25 }, (_, i) => md5(i, "f"));
    const { id } = await createJob(t.db, { hashes }, options);
    const { report: start } = await report(id);
    for (let i = 0; i < 25; i++) await completeTasksForFile(t.db, summary(hashes[i], i), "simulator");
    const { seen, since } = await follow(id, start.changeCursor, 10);
    expect(seen.map(([p]) => p).sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect((await follow(id, since)).seen).toEqual([]);
  });

  it("refuses a since that is not a change cursor, since with cursor, and since with a filter", async () => {
    const { id } = await createJob(t.db, { hashes: [md5(1, "9")] }, options);
    await expect(report(id, { since: "bm9wZQ" })).rejects.toThrow(/changeCursor/);
    const { report: r } = await report(id);
    await expect(report(id, { since: r.changeCursor, cursor: "x" })).rejects.toThrow(/together/);
    await expect(report(id, { since: r.changeCursor, status: "failed" })).rejects.toThrow(/every changed row/);
    await expect(report(id, { since: Buffer.from(`c${"9".repeat(19)}`).toString("base64url") })).rejects.toThrow(/changeCursor/);
  });
});

describe("a cancel committed while a report is read", () => {
  it("shows the job cancelled, not completed", async () => {
    const { id } = await createJob(t.db, { hashes: [md5(1, "b1"), md5(2, "b1")] }, options);
    const stale = (await findJob(t.db, id))!;
    await cancelJob(t.db, id);
    const { report: r } = await buildJobReport(t.db, stale, reportQuerySchema.parse({}));
    expect(r.status).toBe("cancelled");
    expect(r.counts.cancelled).toBe(2);
  });
});

describe("the ETag", () => {
  it("stays while nothing changes and moves with a task write, a cancel and a pause", async () => {
    const hashes = [md5(1, "8"), md5(2, "8")];
    const { id } = await createJob(t.db, { hashes }, options);
    const tag = async () => {
      const job = (await findJob(t.db, id))!;
      const tag = reportEtag(job, await readReportState(t.db, job.id));
      // A revalidating poll reads it in one statement: the same tag, always.
      expect(await readReportEtag(t.db, id)).toBe(tag);
      return tag;
    };
    const first = await report(id);
    expect(await tag()).toBe(first.etag);
    await foldCountDeltas(t.db);
    expect(await tag()).toBe(first.etag);
    await noteTasksWaiting(t.db, hashes[0], { error: "waiting for a slot", retryAt: new Date(Date.now() + 5000) });
    const second = await tag();
    expect(second).not.toBe(first.etag);
    await t.sql`insert into vt_pause (budget, until, cause, reason) select budget, now() + interval '1 hour', 'quota', 'test'
      from (select ${(await import("../../lib/budget/identity")).requestBudget()} as budget) b`;
    const third = await tag();
    expect(third).not.toBe(second);
    expect((await report(id)).etag).toBe(third);
    await t.sql`delete from vt_pause`;
    await cancelJob(t.db, id);
    const fourth = await tag();
    expect(fourth).not.toBe(second);
    expect((await report(id)).etag).toBe(fourth);
    expect(await readReportEtag(t.db, "AAAAAAAAAAAAAAAAAAAAAA")).toBeNull();
  });
});

describe("the export", () => {
  async function exported(id: string, params: Record<string, string>) {
    const job = (await findJob(t.db, id))!;
    const response = exportResponse(t.db, job, exportQuerySchema.parse(params));
    return { response, text: await response.text() };
  }

  it("reads on as slowly as its reader, past the connection's statement timeout", async () => {
    const hashes = Array.from({ length: 3_000 }, (_, i) => md5(i, "5"));
    const { id } = await createJob(t.db, { hashes }, options);
    // Connections that end any statement after 300 ms, as every connection ends one after 5 minutes.
    const strict = drizzle(postgres(t.url, { max: 2, onnotice: () => {}, connection: { statement_timeout: 300 } }), { schema });
    try {
      const query = reportQuerySchema.parse({});
      let rows = 0;
      const started = Date.now();
      for await (const batch of streamTasks(strict as unknown as Db, id, { filter: toTaskFilter(query), order: toTaskOrder(query), batch: 100 })) {
        rows += batch.length;
        await new Promise((resolve) => setTimeout(resolve, 40));
      }
      expect(rows).toBe(3_000);
      expect(Date.now() - started).toBeGreaterThan(1_000);
    } finally {
      await strict.$client.end();
    }
  });

  it("writes RFC 4180 CSV with every column, formulas neutralised, and names the job in the file name", async () => {
    const hashes = [md5(1, "7"), md5(2, "7"), md5(3, "7")];
    const { id } = await createJob(t.db, { hashes, name: "Incident #42: phish" }, options);
    await completeTasksForFile(t.db, summary(hashes[0], 1), "simulator");
    await failTasks(t.db, hashes[1], 'said "no", then, left');
    const { response, text } = await exported(id, { format: "csv" });
    expect(response.headers.get("content-type")).toMatch(/^text\/csv/);
    expect(response.headers.get("content-disposition")).toBe(`attachment; filename="hashscan-incident-42-phish-${id}.csv"`);
    const lines = text.split("\r\n");
    expect(lines[0]).toBe(
      "hash,type,status,md5,sha1,sha256,fortinet_name,fortinet_category,detected,engines,scan_date,meaningful_name,file_type,error",
    );
    expect(lines[1]).toBe(
      `${hashes[0]},md5,completed,${hashes[0]},${hashes[0]}00000000,${hashes[0]}${hashes[0]},,undetected,1,61,2025-01-01T01:00:00.000Z,"'=HYPERLINK(""http://x"")",Win32 EXE,`,
    );
    expect(lines[2]).toBe(`${hashes[1]},md5,failed,${hashes[1]},,,,,,,,,,"said ""no"", then, left"`);
    expect(lines[3]).toBe(`${hashes[2]},md5,pending,${hashes[2]},,,,,,,,,,`);
    expect(lines[4]).toBe("");
    expect(lines).toHaveLength(5);
  });

  it("writes JSON and NDJSON under the same filters", async () => {
    const hashes = Array.from({ length: 2500 }, (_, i) => md5(i, "6"));
    const { id } = await createJob(t.db, { hashes }, options);
    for (let i = 0; i < 30; i++) await completeTasksForFile(t.db, summary(hashes[i], i), "simulator");
    const all = JSON.parse((await exported(id, { format: "json" })).text);
    expect(all).toHaveLength(2500);
    expect(all[0]).toEqual({
      hash: hashes[0], hashType: "md5", status: "completed", md5: hashes[0], sha1: `${hashes[0]}00000000`,
      sha256: `${hashes[0]}${hashes[0]}`, fortinet: "W32/Test.0!tr", fortinetCategory: "malicious", detected: 0,
      engines: 60, scanDate: null, meaningfulName: "file0.exe", fileType: "Win32 EXE", error: null,
    });
    const detected = (await exported(id, { format: "ndjson", fortinet: "detected" })).text.trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(detected.map((r) => r.hash)).toEqual(hashes.slice(0, 30).filter((_, i) => i % 3 === 0));
    expect(JSON.parse((await exported(id, { format: "json", status: "failed" })).text)).toEqual([]);
  });

  it("holds no connection for a body never read (a HEAD, a client gone early), and keeps to 4 at once", async () => {
    const { id } = await createJob(t.db, { hashes: [md5(1, "c1")] }, options);
    const job = (await findJob(t.db, id))!;
    const unread = Array.from({ length: 4 }, (_, i) => exportResponse(t.db, job, exportQuerySchema.parse({ format: i % 2 ? "ndjson" : "csv" })));
    expect(() => exportResponse(t.db, job, exportQuerySchema.parse({}))).toThrow(/Too many exports/);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const [{ n }] = await t.sql<{ n: number }[]>`select count(*)::int as n from pg_stat_activity where state like 'idle in transaction%' and datname = current_database()`;
    expect(n).toBe(0);
    // Their clients go away: the slots come back.
    await Promise.all(unread.map((response) => response.body!.cancel()));
    expect((await exported(id, { format: "ndjson" })).text).toContain(md5(1, "c1"));
  });

  it("lets the connection go when the client stops reading", async () => {
    const hashes = Array.from({ length: 3000 }, (_, i) => md5(i, "5"));
    const { id } = await createJob(t.db, { hashes }, options);
    const job = (await findJob(t.db, id))!;
    for (let round = 0; round < 8; round++) {
      const response = exportResponse(t.db, job, exportQuerySchema.parse({ format: "ndjson" }));
      const reader = response.body!.getReader();
      await reader.read();
      await reader.read();
      await reader.cancel();
    }
    // The pool (5) would be exhausted, and the export limit reached, had any of them kept its connection.
    const { text } = await exported(id, { format: "csv", status: "completed" });
    expect(text.split("\r\n")[0]).toMatch(/^hash,/);
    const [{ n }] = await t.sql<{ n: number }[]>`select count(*)::int as n from pg_stat_activity where state like 'idle in transaction%' and datname = current_database()`;
    expect(n).toBe(0);
  });
});
