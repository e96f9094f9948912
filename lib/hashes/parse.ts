// Finds MD5, SHA-1 and SHA-256 hashes in text as analysts paste it: IOC lists, CSV exports, log excerpts.
// No Node APIs here: the browser imports this module too.
import { DigestSet } from "./digest-set";

export type HashType = "md5" | "sha1" | "sha256";

export interface ParsedHash {
  /** Lower-cased. */
  hash: string;
  type: HashType;
  /** 1-based line of the first occurrence. */
  line: number;
}

export interface InvalidLine {
  line: number;
  /** The line trimmed, cut to 100 characters (ending in "…" when cut). */
  value: string;
  reason: string;
}

export interface ParseResult {
  /** Distinct hashes in order of first occurrence. */
  hashes: ParsedHash[];
  /** Every occurrence after the first, even on the same line. */
  duplicates: number;
  /** The first MAX_INVALID_LINES_KEPT invalid lines, in line order. */
  invalid: InvalidLine[];
  /** All invalid lines, including those not kept. */
  invalidCount: number;
  /** Distinct hashes per type. */
  counts: Record<HashType, number>;
}

// A pasted log can be all noise; the user needs a sample of what was wrong, not a million rows.
export const MAX_INVALID_LINES_KEPT = 1000;

const EXCERPT_MAX_CHARS = 100;
// Shorter hex runs are too common in prose (dates, ids, colours) to be worth naming in a reason.
const MIN_HEX_RUN_TO_REPORT = 16;

const SKIPPED_LINE = /^\s*(?:$|#|\/\/)/;
const HEX = /^[0-9a-fA-F]+$/;
const UNSUPPORTED: ReadonlyMap<number, string> = new Map([
  [56, "SHA-224"],
  [96, "SHA-384"],
  [128, "SHA-512"],
]);

export function hashTypeOf(hash: string): HashType | null {
  return HEX.test(hash) ? typeOfLength(hash.length) : null;
}

export function parseHashText(text: string): ParseResult {
  return collect((onHash) => scanHashText(text, onHash));
}

/** For a JSON "hashes" array: each element is one line, numbered index + 1. */
export function parseHashList(lines: readonly string[]): ParseResult {
  return collect((onHash) => scanHashes(lines, onHash));
}

/** Called once per distinct hash, in order of first occurrence. */
export type HashVisitor = (hash: string, type: HashType, line: number) => void;

/** What a scan finds besides the hashes it hands to its visitor. */
export type ScanSummary = Omit<ParseResult, "hashes"> & { accepted: number };

/** parseHashText without the list: each distinct hash goes to `onHash` (a million of them need not be objects). */
export function scanHashText(text: string, onHash: HashVisitor): ScanSummary {
  const withoutBom = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  return scanHashes(linesOf(withoutBom), onHash);
}

/**
 * parseHashText of a file's bytes without ever holding the whole file as text: UTF-8 is decoded a quarter of a megabyte
 * at a time, cut just after a newline (no UTF-8 character holds that byte). UTF-16 (with its BOM) is decoded whole.
 */
export function scanHashBytes(bytes: Uint8Array, onHash: HashVisitor): ScanSummary {
  if (isUtf16(bytes)) return scanHashText(decodeText(bytes), onHash);
  return scanHashes(linesOfUtf8(bytes), onHash);
}

// Under a megabyte: Node makes a larger decoded string an external one, which only a full collection frees.
const DECODE_CHUNK_BYTES = 256 * 1024;

function* linesOfUtf8(bytes: Uint8Array): Generator<string> {
  const decoder = new TextDecoder(); // drops a leading BOM
  let start = 0;
  for (;;) {
    const newline = start + DECODE_CHUNK_BYTES < bytes.length ? bytes.indexOf(10, start + DECODE_CHUNK_BYTES) : -1;
    const end = newline === -1 ? bytes.length : newline + 1;
    const last = end === bytes.length;
    const lines = linesOf(decoder.decode(bytes.subarray(start, end), { stream: !last }));
    // A chunk but the last ends with its newline: the empty "line" after it is the next chunk's first line.
    for (let line = lines.next(); !line.done; ) {
      const next = lines.next();
      if (!next.done || last) yield line.value;
      line = next;
    }
    if (last) return;
    start = end;
  }
}

function collect(scan: (onHash: HashVisitor) => ScanSummary): ParseResult {
  const hashes: ParsedHash[] = [];
  const { duplicates, invalid, invalidCount, counts } = scan((hash, type, line) => hashes.push({ hash, type, line }));
  return { hashes, duplicates, invalid, invalidCount, counts };
}

/** The lines of a text one at a time (a million-line upload is never held as a million strings at once). */
function* linesOf(text: string): Generator<string> {
  const end = /\r\n|\r|\n/g;
  let start = 0;
  for (let match = end.exec(text); match !== null; match = end.exec(text)) {
    yield text.slice(start, match.index);
    start = match.index + match[0].length;
  }
  yield text.slice(start);
}

export function scanHashes(lines: Iterable<string>, onHash: HashVisitor): ScanSummary {
  const result: ScanSummary = {
    accepted: 0,
    duplicates: 0,
    invalid: [],
    invalidCount: 0,
    counts: { md5: 0, sha1: 0, sha256: 0 },
  };
  const seen = new DigestSet();
  // A hash is a whole alphanumeric token, so `0x…` or a hex run glued to a word is never taken for one.
  const token = /[0-9A-Za-z]+/g;

  let index = -1;
  for (const line of lines) {
    index++;
    if (SKIPPED_LINE.test(line)) continue;

    let found = false;
    let longestOtherHex = 0;
    token.lastIndex = 0;
    for (let match = token.exec(line); match !== null; match = token.exec(line)) {
      const run = match[0];
      if (run.length < MIN_HEX_RUN_TO_REPORT || !HEX.test(run)) continue;
      const type = typeOfLength(run.length);
      if (type === null) {
        longestOtherHex = Math.max(longestOtherHex, run.length);
        continue;
      }
      found = true;
      const hash = run.toLowerCase();
      if (!seen.add(hash)) {
        result.duplicates++;
      } else {
        result.accepted++;
        result.counts[type]++;
        onHash(hash, type, index + 1);
      }
    }

    if (found) continue;
    result.invalidCount++;
    if (result.invalid.length < MAX_INVALID_LINES_KEPT) {
      result.invalid.push({ line: index + 1, value: excerpt(line), reason: invalidReason(longestOtherHex) });
    }
  }
  return result;
}

function typeOfLength(length: number): HashType | null {
  switch (length) {
    case 32:
      return "md5";
    case 40:
      return "sha1";
    case 64:
      return "sha256";
    default:
      return null;
  }
}

function invalidReason(longestOtherHex: number): string {
  if (longestOtherHex === 0) return "no MD5, SHA-1 or SHA-256 found";
  const unsupported = UNSUPPORTED.get(longestOtherHex);
  if (unsupported) return `${longestOtherHex} hex digits — ${unsupported} is not supported`;
  return `${longestOtherHex} hex digits — not an MD5 (32), SHA-1 (40) or SHA-256 (64) hash`;
}

// Control characters (C0 but tab, DEL, C1), line and paragraph separators, and bidirectional overrides that could
// make an echoed text read as something else; and half a surrogate pair, which no JSON column accepts.
const UNPRINTABLE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * A text as it can be shown and stored: each unprintable character (NUL, which PostgreSQL cannot store, among
 * them) becomes U+FFFD. Written without String.prototype.toWellFormed, which browsers we support lack.
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, "\ufffd");
}

function excerpt(line: string): string {
  // A copy, not a view into the chunk of text the line was cut from: a kept excerpt must not keep the chunk.
  const value = printable(line.trim()).split("").join("");
  if (value.length <= EXCERPT_MAX_CHARS) return value;
  // The ellipsis counts towards the limit, so a stored excerpt never exceeds it.
  let end = EXCERPT_MAX_CHARS - 1;
  // Cutting between the halves of a surrogate pair would leave a broken character on screen.
  const last = value.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${value.slice(0, end)}…`;
}

const isUtf16 = (bytes: Uint8Array) => (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff);

/** A file's bytes as text: UTF-8 (a BOM is dropped), or UTF-16 with its BOM, as PowerShell writes by default. */
export function decodeText(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder("utf-16le").decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder("utf-16be").decode(bytes.subarray(2));
  return new TextDecoder().decode(bytes);
}
