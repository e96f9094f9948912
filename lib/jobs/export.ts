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
/** An export whose client reads nothing for this long is ended. */
const IDLE_MS = 60_000;
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
 * The export as an HTTP response whose body streams. Nothing is reserved until the body is first read (a HEAD, or
 * a client gone before the body is sent, costs nothing); from then on, the export holds a pooled connection and one
 * of MAX_CONCURRENT_EXPORTS slots until the last row, the client going away, or IDLE_MS without a read.
 */
export function exportResponse(db: Db, job: Job, query: ExportQuery): Response {
  if (running >= MAX_CONCURRENT_EXPORTS) {
    throw new AppError("unavailable", "Too many exports are running on this server; try again in a few seconds.");
  }
  const format = query.format;
  const batches = streamTasks(db, job.id, { filter: toTaskFilter(query), order: toTaskOrder(query), batch: BATCH_ROWS });
  const encoder = new TextEncoder();
  let count = 0;
  let holding = false;
  let idle: NodeJS.Timeout | undefined;

  const finish = async () => {
    clearTimeout(idle);
    if (holding) running -= 1;
    holding = false;
    await batches.return(undefined);
  };

  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        if (format === "csv") controller.enqueue(encoder.encode(csvLines([], true)));
        if (format === "json") controller.enqueue(encoder.encode("["));
      },
      async pull(controller) {
        clearTimeout(idle);
        if (!holding) {
          holding = true;
          running += 1;
        }
        try {
          const next = await batches.next();
          if (next.done) {
            if (format === "json") controller.enqueue(encoder.encode(count === 0 ? "]\n" : "\n]\n"));
            controller.close();
            await finish();
            return;
          }
          const records = next.value.map(toExportRecord);
          let text: string;
          if (format === "csv") text = csvLines(records, false);
          else if (format === "ndjson") text = records.map((r) => `${JSON.stringify(r)}\n`).join("");
          else text = records.map((r, i) => `${count + i === 0 ? "\n" : ",\n"}${JSON.stringify(r)}`).join("");
          count += records.length;
          controller.enqueue(encoder.encode(text));
          // A client that stops reading (but keeps the connection) must not keep the cursor and the slot forever.
          idle = setTimeout(() => {
            log.warn({ job: job.id, rows: count }, "Export abandoned: the client stopped reading");
            controller.error(new Error("export idle"));
            void finish();
          }, IDLE_MS);
          idle.unref();
        } catch (error) {
          log.error({ err: error, job: job.id }, "Export failed mid-stream");
          controller.error(error);
          await finish();
        }
      },
      async cancel() {
        await finish();
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
