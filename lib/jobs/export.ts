// A job's results as a file: CSV (RFC 4180), a JSON array or NDJSON, streamed from a database cursor a batch at a
// time, so 100,000 rows cost the memory of one batch. Values come from the columns a task keeps, never from JSON.
import { stringify } from "csv-stringify/sync";
import type { Db } from "@/lib/db/client";
import { streamTasks, type TaskRow } from "@/lib/db/queries/task-pages";
import type { Job } from "@/lib/db/schema";
import { AppError } from "@/lib/errors";
import { log } from "@/lib/log";
import type { ExportQuery, JobResult } from "./api-schema";
import { toResult, toTaskFilter, toTaskOrder } from "./report";

const BATCH_ROWS = 1000;
/** Each export holds a pooled connection for as long as its client reads: a few at a time per process. */
const MAX_CONCURRENT_EXPORTS = 4;
/** An export whose client reads nothing for this long is ended (the first read comes sooner, or never). */
const IDLE_MS = 60_000;
const FIRST_READ_MS = 10_000;
let running = 0;

/** The exported fields, in order: CSV header → JobResult field. */
const COLUMNS = [
  ["hash", "hash"],
  ["type", "hashType"],
  ["status", "status"],
  ["md5", "md5"],
  ["sha1", "sha1"],
  ["sha256", "sha256"],
  ["fortinet_name", "fortinet"],
  ["fortinet_category", "fortinetCategory"],
  ["detected", "detected"],
  ["engines", "engines"],
  ["scan_date", "scanDate"],
  ["meaningful_name", "meaningfulName"],
  ["file_type", "fileType"],
  ["error", "error"],
] as const satisfies readonly (readonly [string, keyof JobResult])[];

export type ExportRecord = { [K in (typeof COLUMNS)[number][1]]: JobResult[K] };

const CONTENT_TYPE = { csv: "text/csv; charset=utf-8; header=present", json: "application/json", ndjson: "application/x-ndjson" };

export function toExportRecord(row: TaskRow): ExportRecord {
  const result = toResult(row, null);
  return Object.fromEntries(COLUMNS.map(([, field]) => [field, result[field]])) as ExportRecord;
}

/**
 * A spreadsheet runs a cell that starts with = + - @ (or a tab or carriage return, which some strip first) as a
 * formula: such text gets a leading apostrophe, which shows it as text. Names from VirusTotal are attacker-chosen.
 */
export function neutraliseFormula(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

function csvLines(records: ExportRecord[], header: boolean): string {
  return stringify(
    records.map((record) => COLUMNS.map(([, field]) => record[field])),
    {
      header,
      columns: COLUMNS.map(([name]) => name),
      record_delimiter: "windows",
      cast: { string: neutraliseFormula },
    },
  );
}

/** `hashscan-<name>-<id>.<format>`, the name reduced to what every file system and header accepts. */
export function exportFileName(job: Pick<Job, "id" | "name">, format: ExportQuery["format"]): string {
  const name = (job.name ?? "")
    .normalize("NFKD")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40)
    .replace(/-+$/, "");
  return `hashscan-${name ? `${name}-` : ""}${job.id}.${format}`;
}

/**
 * The export as an HTTP response whose body streams. It takes one of MAX_CONCURRENT_EXPORTS slots at once, and a
 * pooled connection only when the body is first read (a HEAD, or a client gone before the body, never touches the
 * database); both are given back at the last row, when the client goes away, or after a wait without a read
 * (FIRST_READ_MS before the first, IDLE_MS between two).
 */
export function exportResponse(db: Db, job: Job, query: ExportQuery): Response {
  if (running >= MAX_CONCURRENT_EXPORTS) {
    throw new AppError("unavailable", "Too many exports are running on this server; try again in a few seconds.");
  }
  running += 1;
  const format = query.format;
  const batches = streamTasks(db, job.id, { filter: toTaskFilter(query), order: toTaskOrder(query), batch: BATCH_ROWS });
  const encoder = new TextEncoder();
  let count = 0;
  let ended = false;
  let idle: NodeJS.Timeout | undefined;

  const finish = async () => {
    clearTimeout(idle);
    if (ended) return;
    ended = true;
    running -= 1;
    await batches.return(undefined);
  };
  const finishQuietly = () =>
    finish().catch((error: unknown) => log.warn({ err: error, job: job.id }, "Closing an export's cursor failed"));

  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const waitForRead = (ms: number) => {
    clearTimeout(idle);
    idle = setTimeout(() => {
      log.warn({ job: job.id, rows: count }, "Export abandoned: the client stopped reading");
      try {
        controller.error(new Error("export idle"));
      } catch {
        // already closed
      }
      void finishQuietly();
    }, ms);
    idle.unref();
  };

  const body = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
        if (format === "csv") c.enqueue(encoder.encode(csvLines([], true)));
        if (format === "json") c.enqueue(encoder.encode("["));
        waitForRead(FIRST_READ_MS);
      },
      async pull(c) {
        clearTimeout(idle);
        try {
          const next = await batches.next();
          // The client went away while the batch was read: cancel() has closed the stream already.
          if (ended) return;
          if (next.done) {
            if (format === "json") c.enqueue(encoder.encode(count === 0 ? "]\n" : "\n]\n"));
            c.close();
            await finish();
            return;
          }
          const records = next.value.map(toExportRecord);
          let text: string;
          if (format === "csv") text = csvLines(records, false);
          else if (format === "ndjson") text = records.map((r) => `${JSON.stringify(r)}\n`).join("");
          else text = records.map((r, i) => `${count + i === 0 ? "\n" : ",\n"}${JSON.stringify(r)}`).join("");
          count += records.length;
          c.enqueue(encoder.encode(text));
          waitForRead(IDLE_MS);
        } catch (error) {
          if (ended) return;
          log.error({ err: error, job: job.id }, "Export failed mid-stream");
          c.error(error);
          await finishQuietly();
        }
      },
      async cancel() {
        await finishQuietly();
      },
    },
    // Read on demand only: no row is fetched before the client asks for the body.
    { highWaterMark: 0 },
  );

  return new Response(body, {
    headers: {
      "content-type": CONTENT_TYPE[format],
      "content-disposition": `attachment; filename="${exportFileName(job, format)}"`,
      "cache-control": "private, no-store",
      "x-content-type-options": "nosniff",
    },
  });
}
