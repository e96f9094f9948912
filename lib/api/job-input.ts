// Reads a job submission from any of the accepted request bodies, enforcing the upload limit as it reads.
import { z } from "zod";
import { AppError } from "@/lib/errors";
import { decodeText } from "@/lib/hashes";
import { parseUploadOffThread } from "@/lib/hashes/parse-off-thread";
import { jobNameSchema } from "@/lib/jobs/api-schema";
import type { JobInput } from "@/lib/jobs/create";
import { MAX_UPLOAD_BYTES, MAX_UPLOAD_LABEL } from "@/lib/jobs/upload-limits";

const tooLarge = () => new AppError("payload_too_large", `The upload is larger than ${MAX_UPLOAD_LABEL}.`);

export async function readJobInput(request: Request, maxHashes: number): Promise<JobInput> {
  const contentType = (request.headers.get("content-type") ?? "").toLowerCase();
  const mediaType = contentType.split(";")[0].trim();
  const queryName = new URL(request.url).searchParams.get("name");

  switch (mediaType) {
    case "application/json":
      return readJsonJob(parseJson(await readText(request)), maxHashes);
    case "text/plain":
    case "application/x-www-form-urlencoded":
      // `curl --data-binary @file` sends the file as x-www-form-urlencoded: the body is the list itself.
      return { upload: await parseUploadOffThread(await readLimited(request)), name: parseName(queryName) };
    case "multipart/form-data": {
      const bytes = await readLimited(request);
      assertFewParts(bytes, contentType);
      const form = await new Response(bytes, { headers: { "content-type": contentType } }).formData().catch(() => {
        throw new AppError("invalid_parameter", "The multipart body could not be read.");
      });
      const files = form.getAll("file");
      // Several files would have to be several jobs, or one silently dropped: neither, say so.
      if (files.length > 1) throw new AppError("invalid_parameter", `Send one file per job; this upload holds ${files.length}.`);
      const file = files[0];
      if (!(file instanceof Blob)) throw new AppError("invalid_parameter", "A multipart upload needs a `file` field.");
      const name = form.get("name");
      const upload = await parseUploadOffThread(new Uint8Array(await file.arrayBuffer()));
      return { upload, name: parseName(typeof name === "string" ? name : queryName) };
    }
    default:
      throw new AppError(
        "unsupported_media_type",
        "Send application/json, text/plain, application/x-www-form-urlencoded or multipart/form-data.",
      );
  }
}

export function parseName(value: string | null | undefined): string | null {
  const parsed = jobNameSchema.safeParse(value);
  if (!parsed.success) throw invalidParameter(parsed.error);
  return parsed.data ?? null;
}

function invalidParameter(error: z.ZodError): AppError {
  return new AppError("invalid_parameter", z.prettifyError(error));
}

/**
 * `{"hashes": [...], "name": …}`, checked by hand before any schema sees it: the array's length against the job
 * limit, then each element's type, stopping at the first bad one (a schema would collect an issue per element:
 * six million of them took the process 26 s).
 */
function readJsonJob(body: unknown, maxHashes: number): JobInput {
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

/** A job's form has a file and a name: a body of thousands of parts (cheap to send, slow to parse) is refused first. */
const MAX_PARTS = 4;

function assertFewParts(bytes: Uint8Array, contentType: string): void {
  const boundary = /boundary=(?:"([^"]{1,70})"|([^;\s]{1,70}))/i.exec(contentType);
  if (!boundary) throw new AppError("invalid_parameter", "The multipart body has no boundary.");
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The closing delimiter counts once more than the parts.
  let found = 0;
  for (let at = body.indexOf(delimiter); at !== -1; at = body.indexOf(delimiter, at + delimiter.length)) {
    if (++found > MAX_PARTS + 1) throw new AppError("invalid_parameter", `A multipart upload holds a file and a name, at most ${MAX_PARTS} parts.`);
  }
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

async function readText(request: Request): Promise<string> {
  return decodeText(await readLimited(request));
}

/** Content-Encoding values a body may arrive in; the upload limit applies to the bytes once decompressed. */
const ENCODINGS = new Set(["gzip", "deflate"]);

/**
 * Reads the body, refusing it as soon as it passes the limit (a declared length is checked before reading). A
 * gzip or deflate body is decompressed as it is read, and the limit counts what comes out of it.
 */
async function readLimited(request: Request): Promise<Uint8Array<ArrayBuffer>> {
  const declared = Number(request.headers.get("content-length"));
  if (declared > MAX_UPLOAD_BYTES) throw tooLarge();
  if (!request.body) return new Uint8Array();
  const encoding = (request.headers.get("content-encoding") ?? "identity").trim().toLowerCase();
  if (encoding !== "identity" && !ENCODINGS.has(encoding)) {
    throw new AppError("unsupported_media_type", `Content-Encoding ${JSON.stringify(encoding.slice(0, 40))} is not supported: send gzip, deflate or none.`);
  }
  const stream = encoding === "identity" ? request.body : request.body.pipeThrough(new DecompressionStream(encoding as "gzip" | "deflate"));
  // Read into one buffer, sized by the declared length when there is one (then the body is held once); without
  // one (chunked, compressed), it doubles as it fills, and is cut to size at the end.
  let body = new Uint8Array(encoding === "identity" && declared > 0 ? declared : 1024 * 1024);
  let size = 0;
  const reader = stream.getReader();
  for (;;) {
    let read: ReadableStreamReadResult<Uint8Array>;
    try {
      read = await reader.read();
    } catch (error) {
      if (encoding === "identity") throw error;
      throw new AppError("invalid_parameter", `The body is not valid ${encoding} data.`);
    }
    const { done, value } = read;
    if (done) break;
    if (size + value.byteLength > MAX_UPLOAD_BYTES) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    if (size + value.byteLength > body.byteLength) {
      const grown = new Uint8Array(Math.min(MAX_UPLOAD_BYTES, Math.max(body.byteLength * 2, size + value.byteLength)));
      grown.set(body.subarray(0, size));
      body = grown;
    }
    body.set(value, size);
    size += value.byteLength;
  }
  return size === body.byteLength ? body : body.slice(0, size);
}
