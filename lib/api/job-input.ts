// Reads a job submission from any of the accepted request bodies, enforcing the upload limit as it reads.
import { createHash } from "node:crypto";
import { AppError } from "@/lib/errors";
import { newJobId } from "@/lib/jobs/job-id";
import type { JobInput } from "@/lib/jobs/create";
import { MAX_UPLOAD_BYTES, MAX_UPLOAD_LABEL } from "@/lib/jobs/upload-limits";
import { parseName, type BodyKind } from "./job-body";
import { readJobBodyOffThread } from "./parse-off-thread";

const tooLarge = () => new AppError("payload_too_large", `The upload is larger than ${MAX_UPLOAD_LABEL}.`);
// Whatever came before the cut is never taken for the whole list (nor, from Node's ECONNRESET, for a database outage).
const cutOff = () => new AppError("invalid_parameter", "The upload was cut off before its end; nothing was saved. Send it again.");

/** A submission read, and with `digest`, what identifies the request: the SHA-256 of its list's bytes and its name. */
export type SubmittedInput = JobInput & { requestDigest?: string };

export async function readJobInput(request: Request, maxHashes: number, options: { digest?: boolean } = {}): Promise<SubmittedInput> {
  const contentType = (request.headers.get("content-type") ?? "").toLowerCase();
  const mediaType = contentType.split(";")[0].trim();
  const queryName = new URL(request.url).searchParams.get("name");
  // Parsed off the event loop, into the rows of a job whose id is chosen now.
  const parse = (kind: BodyKind, bytes: Uint8Array) => readJobBodyOffThread({ kind, bytes, jobId: newJobId(), maxHashes, digest: options.digest });
  // The same list under another name is another request; a multipart body is known by its file, not its boundary.
  // How the bytes are read is part of it: the same bytes as JSON and as text are two different lists.
  const submitted = (kind: BodyKind, upload: JobInput & { upload: unknown }, digest: string | undefined): SubmittedInput =>
    digest === undefined
      ? upload
      : { ...upload, requestDigest: createHash("sha256").update(`${kind}\n${digest}\n${JSON.stringify(upload.name ?? null)}`).digest("hex") };

  switch (mediaType) {
    case "application/json": {
      const { upload, name, digest } = await parse("json", await readLimited(request));
      return submitted("json", { upload, name: name ?? null }, digest);
    }
    case "text/plain":
    case "application/x-www-form-urlencoded": {
      // `curl --data-binary @file` sends the file as x-www-form-urlencoded: the body is the list itself.
      const name = parseName(queryName);
      const { upload, digest } = await parse("text", await readLimited(request));
      return submitted("text", { upload, name }, digest);
    }
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
      const formName = form.get("name");
      const name = parseName(typeof formName === "string" ? formName : queryName);
      const { upload, digest } = await parse("text", new Uint8Array(await file.arrayBuffer()));
      return submitted("text", { upload, name }, digest);
    }
    default:
      throw new AppError(
        "unsupported_media_type",
        "Send application/json, text/plain, application/x-www-form-urlencoded or multipart/form-data.",
      );
  }
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
    } catch {
      if (encoding === "identity") throw cutOff();
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
  if (encoding === "identity" && size < declared) throw cutOff();
  return size === body.byteLength ? body : body.slice(0, size);
}
