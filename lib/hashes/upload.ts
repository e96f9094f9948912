// A parsed upload in the form a job is written from: its summary, and its hashes as three PostgreSQL array
// literals (line, hash, type), so that a million hashes cross from a worker thread, and to the database, as three
// strings rather than a million objects. No Node APIs here: the parse worker and the tests import it. The literals
// are toPgArray's (lib/db/queries/pg-array.ts): hex digests, line numbers and type names need no quoting.
import { toPgArray } from "@/lib/db/queries/pg-array";
import { decodeText, parseHashList, parseHashText, type HashType, type InvalidLine, type ParseResult } from "./parse";

export interface ParsedUpload {
  accepted: number;
  duplicates: number;
  invalid: InvalidLine[];
  invalidCount: number;
  counts: Record<HashType, number>;
  /** `{2,3,…}`, `{…hex…,…}`, `{md5,sha1,…}`. */
  columns: { lines: string; hashes: string; types: string };
}

export function toUpload(parsed: ParseResult): ParsedUpload {
  const { hashes } = parsed;
  return {
    accepted: hashes.length,
    duplicates: parsed.duplicates,
    invalid: parsed.invalid,
    invalidCount: parsed.invalidCount,
    counts: parsed.counts,
    columns: {
      lines: toPgArray(hashes.map((h) => h.line)),
      hashes: toPgArray(hashes.map((h) => h.hash)),
      types: toPgArray(hashes.map((h) => h.type)),
    },
  };
}

export const parseUploadBytes = (bytes: Uint8Array): ParsedUpload => toUpload(parseHashText(decodeText(bytes)));
export const parseUploadText = (text: string): ParsedUpload => toUpload(parseHashText(text));
export const parseUploadList = (lines: readonly string[]): ParsedUpload => toUpload(parseHashList(lines));
