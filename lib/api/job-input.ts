// Reads a job submission from any of the accepted request bodies, enforcing the upload limit as it reads.
import { z } from "zod";
import { AppError } from "@/lib/errors";
import { createJobJsonSchema, jobNameSchema } from "@/lib/jobs/api-schema";
import type { JobInput } from "@/lib/jobs/create";
import { MAX_UPLOAD_BYTES, MAX_UPLOAD_LABEL } from "@/lib/jobs/upload-limits";

const tooLarge = () => new AppError("payload_too_large", `The upload is larger than ${MAX_UPLOAD_LABEL}.`);

export async function readJobInput(request: Request): Promise<JobInput> {
  const contentType = (request.headers.get("content-type") ?? "").toLowerCase();
  const mediaType = contentType.split(";")[0].trim();
  const queryName = new URL(request.url).searchParams.get("name");

  switch (mediaType) {
    case "application/json": {
      const body = parseJson(await readText(request));
      const parsed = createJobJsonSchema.safeParse(body);
      if (!parsed.success) throw invalidParameter(parsed.error);
      return { hashes: parsed.data.hashes, name: parsed.data.name ?? null };
    }
    case "text/plain":
    case "application/x-www-form-urlencoded":
      // `curl --data-binary @file` sends the file as x-www-form-urlencoded: the body is the list itself.
      return { text: await readText(request), name: parseName(queryName) };
    case "multipart/form-data": {
      const bytes = await readLimited(request);
      const form = await new Response(bytes, { headers: { "content-type": contentType } }).formData().catch(() => {
        throw new AppError("invalid_parameter", "The multipart body could not be read.");
      });
      const file = form.get("file");
      if (!(file instanceof Blob)) throw new AppError("invalid_parameter", "A multipart upload needs a `file` field.");
      const name = form.get("name");
      return { text: await file.text(), name: parseName(typeof name === "string" ? name : queryName) };
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
  const issue = error.issues[0];
  const where = issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
  return new AppError("invalid_parameter", `${where}${issue.message}`);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new AppError("invalid_json", "The body is not valid JSON.");
  }
}

async function readText(request: Request): Promise<string> {
  return new TextDecoder().decode(await readLimited(request));
}

/** Reads the body, refusing it as soon as it passes the limit (a declared length is checked before reading). */
async function readLimited(request: Request): Promise<Uint8Array<ArrayBuffer>> {
  const declared = Number(request.headers.get("content-length"));
  if (declared > MAX_UPLOAD_BYTES) throw tooLarge();
  if (!request.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_UPLOAD_BYTES) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}
