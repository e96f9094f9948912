// A parsed upload in the form a job is written from: its summary, and its tasks as the rows of a COPY in
// PostgreSQL's text format, written as the hashes are found. A million hashes then cross from a worker thread,
// and to the database, as one block of bytes, never as a million objects or one giant string. No Node APIs here:
// the parse worker and the tests import it.
import { scanHashBytes, scanHashes, scanHashText, type HashType, type HashVisitor, type InvalidLine, type ScanSummary } from "./parse";

export interface ParsedUpload {
  /** The job these rows belong to, chosen before the parse: every row starts with it. */
  jobId: string;
  accepted: number;
  duplicates: number;
  invalid: InvalidLine[];
  invalidCount: number;
  counts: Record<HashType, number>;
  /**
   * One row per distinct hash, in order of first occurrence, in blocks of about a megabyte: `job_id \t position \t line \t hash \t hash_type \n`
   * (TASK_COPY_COLUMNS). Ids, numbers, hex digests and type names need no escaping in COPY's text format.
   */
  rows: Uint8Array[];
}

/** The columns of ParsedUpload.rows, in order. */
export const TASK_COPY_COLUMNS = ["job_id", "position", "line", "hash", "hash_type"] as const;

// `maxRows` (the job limit): past it, hashes are still counted, for the refusal to say how many, but no longer
// written as rows that would only be thrown away.
export const parseUploadBytes = (bytes: Uint8Array, jobId: string, maxRows = Infinity): ParsedUpload =>
  toUpload(jobId, maxRows, (onHash) => scanHashBytes(bytes, onHash));
export const parseUploadText = (text: string, jobId: string, maxRows = Infinity): ParsedUpload =>
  toUpload(jobId, maxRows, (onHash) => scanHashText(text, onHash));
export const parseUploadList = (lines: Iterable<string>, jobId: string, maxRows = Infinity): ParsedUpload =>
  toUpload(jobId, maxRows, (onHash) => scanHashes(lines, onHash));

function toUpload(jobId: string, maxRows: number, scan: (onHash: HashVisitor) => ScanSummary): ParsedUpload {
  const rows = new RowWriter(jobId);
  let written = 0;
  const { accepted, duplicates, invalid, invalidCount, counts } = scan((hash, type, line) => {
    if (written++ < maxRows) rows.add(hash, type, line);
  });
  return { jobId, accepted, duplicates, invalid, invalidCount, counts, rows: rows.finish() };
}

/** Rows travel in blocks of this size: never copied to grow, each moved to the database as it is. */
const BLOCK_BYTES = 1024 * 1024;

/** Writes ASCII rows into blocks (a row of a SHA-256 is about 110 bytes; a million of them, about 106 blocks). */
class RowWriter {
  private readonly blocks: Uint8Array[] = [];
  private block = new Uint8Array(BLOCK_BYTES);
  private size = 0;
  private position = 0;
  private readonly prefix: Uint8Array;

  constructor(jobId: string) {
    this.prefix = ascii(`${jobId}\t`);
  }

  add(hash: string, type: HashType, line: number) {
    // A row never spans two blocks: a block ends where the next row would not fit.
    const longest = this.prefix.length + 2 * 11 + hash.length + type.length + 3;
    if (this.size + longest > this.block.length) {
      // Full to within a row: kept as a view, not copied.
      this.blocks.push(this.block.subarray(0, this.size));
      this.block = new Uint8Array(BLOCK_BYTES);
      this.size = 0;
    }
    this.block.set(this.prefix, this.size);
    this.size += this.prefix.length;
    this.text(`${this.position++}\t${line}\t`);
    this.text(hash);
    this.block[this.size++] = 9; // tab
    this.text(type);
    this.block[this.size++] = 10; // newline
  }

  finish(): Uint8Array[] {
    // The last block is copied to its size: a small job's rows need not carry a megabyte.
    if (this.size > 0) this.blocks.push(this.block.slice(0, this.size));
    return this.blocks;
  }

  /** Only ASCII reaches here: digits, hex, type names, tabs. */
  private text(value: string) {
    for (let i = 0; i < value.length; i++) this.block[this.size++] = value.charCodeAt(i);
  }
}

const ascii = (value: string) => Uint8Array.from(value, (c) => c.charCodeAt(0));
