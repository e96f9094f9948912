// A job's report on stdout: csv and json are the server's own export (GET /api/jobs/{id}/export, the file the
// report page downloads), streamed through; the table is built from the report's pages, 1,000 rows at a time.
import { Readable, Transform, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import type { JobResult } from "@/lib/jobs/api-schema";
import type { HashscanApi } from "./api-client";
import type { Format } from "./args";
import { resultsTable, terminalSafe } from "./format";

const TABLE_PAGE_ROWS = "1000";

export interface Stdout extends Writable {
  isTTY?: boolean;
}

export async function printReport(api: HashscanApi, id: string, format: Format, out: Stdout): Promise<void> {
  if (format === "table") {
    await write(out, resultsTable(await allResults(api, id)));
    return;
  }
  const body = Readable.fromWeb((await api.exportBody(id, format)) as WebReadableStream<Uint8Array>);
  // An export read on a terminal: its cells (detection names) must not reach it as escape sequences. Our server's
  // JSON escapes them, but the export is streamed through unparsed: whatever --server points at could send them raw.
  if (out.isTTY) await pipeline(body, terminalFilter(), out, { end: false });
  else await pipeline(body, out, { end: false });
}

/** Every row, in input order; the table is aligned over all of them, so it needs them all before its first line. */
async function allResults(api: HashscanApi, id: string): Promise<JobResult[]> {
  const results: JobResult[] = [];
  let cursor: string | null = null;
  do {
    const page = await api.report(id, { limit: TABLE_PAGE_ROWS, ...(cursor ? { cursor } : {}) });
    if (!page) throw new Error("a report answered 304 without If-None-Match");
    results.push(...page.report.results);
    cursor = page.report.nextCursor;
  } while (cursor);
  return results;
}

function terminalFilter(): Transform {
  const decoder = new TextDecoder();
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      done(null, terminalSafe(decoder.decode(chunk, { stream: true })));
    },
    flush(done) {
      done(null, terminalSafe(decoder.decode()));
    },
  });
}

export function write(out: Writable, text: string): Promise<void> {
  return new Promise((resolve, reject) => out.write(text, (error) => (error ? reject(error) : resolve())));
}
