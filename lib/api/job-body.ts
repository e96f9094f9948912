// A job's request body, read: text (a list as pasted or as a file) or JSON (`{"hashes": [...], "name": …}`), into
// the parsed upload a job is written from. Pure and synchronous: the parse worker runs it off the event loop
// (lib/api/parse-off-thread.ts), and the tests call it directly.
import { createHash } from "node:crypto";
import { z } from "zod";
import { AppError, type AppErrorCode } from "@/lib/errors";
import { decodeText } from "@/lib/hashes/parse";
import { parseUploadBytes, parseUploadList, type ParsedUpload } from "@/lib/hashes/upload";
import { jobNameSchema } from "@/lib/jobs/api-schema";

export type BodyKind = "text" | "json";

export interface BodyRequest {
  kind: BodyKind;
  bytes: Uint8Array;
  /** The id the job will have: its rows are written with it. */
  jobId: string;
  /** JOB_MAX_HASHES: a JSON array past twice this is refused before its elements are looked at. */
  maxHashes: number;
  /** Whether to answer the SHA-256 of the bytes too (an Idempotency-Key's request is known by it). */
  digest?: boolean;
}

/** A read body; `name` is the JSON body's own (undefined for text, whose name comes from the query or the form). */
export interface JobBody {
  upload: ParsedUpload;
  name?: string | null;
  /** The bytes' SHA-256, hex, when asked for. */
  digest?: string;
}

/** A refusal as it crosses from the worker thread: an AppError's code and message. */
export interface BodyRefusal {
  code: AppErrorCode;
  message: string;
}

export function readJobBody(request: BodyRequest): JobBody {
  const { kind, jobId, maxHashes } = request;
  const digest = request.digest ? createHash("sha256").update(request.bytes).digest("hex") : undefined;
  if (kind === "text") return { upload: parseUploadBytes(request.bytes, jobId, maxHashes), digest };
  // Nothing holds the bytes, nor their text, once parsed, and each string goes once scanned: a million SHA-256s
  // as JSON peaked at 463 MB in a fresh web process (scripts/bench-uploads.ts measures it).
  const { hashes, name } = readJsonJob(parseJson(decodeText(takeBytes(request))), maxHashes);
  return { upload: parseUploadList(draining(hashes), jobId, maxHashes), name, digest };
}

/** The array's elements one by one, each let go as it is handed out. */
function* draining(values: string[]): Generator<string> {
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    values[i] = "";
    yield value;
  }
}

function takeBytes(request: BodyRequest): Uint8Array {
  const { bytes } = request;
  request.bytes = new Uint8Array();
  return bytes;
}

export function parseName(value: string | null | undefined): string | null {
  const parsed = jobNameSchema.safeParse(value);
  if (!parsed.success) throw new AppError("invalid_parameter", z.prettifyError(parsed.error));
  return parsed.data ?? null;
}

/**
 * `{"hashes": [...], "name": …}`, checked by hand before any schema sees it: the array's length against the job
 * limit, then each element's type, stopping at the first bad one (a schema would collect an issue per element:
 * six million of them took the process 26 s).
 */
function readJsonJob(body: unknown, maxHashes: number): { hashes: string[]; name: string | null } {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new AppError("invalid_parameter", 'The body must be a JSON object: {"hashes": ["…"], "name": "optional"}.');
  }
  const { hashes, name } = body as Record<string, unknown>;
  if (!Array.isArray(hashes)) throw new AppError("invalid_parameter", "hashes must be an array of strings");
  // A bound on the array before anything looks at its elements (each is one line, of one hash or more).
  if (hashes.length > 2 * maxHashes) {
    throw new AppError("payload_too_large", `hashes holds ${hashes.length.toLocaleString("en")} elements; a job holds at most ${maxHashes.toLocaleString("en")} distinct hashes (JOB_MAX_HASHES).`);
  }
  const bad = hashes.findIndex((hash) => typeof hash !== "string");
  if (bad !== -1) throw new AppError("invalid_parameter", `hashes[${bad}] must be a string, not ${describe(hashes[bad])}`);
  return { hashes: hashes as string[], name: parseName(name as string | null | undefined) };
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/** JSON nested deeper than a job's shape needs ({"hashes": [...]}) is refused before it is parsed (slow when deep). */
const MAX_JSON_DEPTH = 4;

function assertShallowJson(text: string): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: the next character is escaped
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > MAX_JSON_DEPTH) throw new AppError("invalid_parameter", `The JSON body is nested deeper than ${MAX_JSON_DEPTH} levels; a job is {"hashes": ["…"], "name": "…"}.`);
    } else if (c === 93 || c === 125) depth--;
  }
}

function parseJson(text: string): unknown {
  assertShallowJson(text);
  try {
    return JSON.parse(text);
  } catch {
    throw new AppError("invalid_json", "The body is not valid JSON.");
  }
}
