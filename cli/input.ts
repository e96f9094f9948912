// The list to submit, read and checked here with the server's own parser before anything is sent: a file with no
// hash, or past the upload limit, is refused at once, and the user sees what the server will take.
import fs from "node:fs/promises";
import type { Readable } from "node:stream";
import { scanHashBytes, type ScanSummary } from "@/lib/hashes/parse";
import { MAX_UPLOAD_BYTES, MAX_UPLOAD_LABEL } from "@/lib/jobs/upload-limits";
import { plural } from "@/lib/plural";
import { UsageError } from "./errors";
import { cell } from "./format";

export interface HashList {
  /** The file as the user named it, or "stdin". */
  label: string;
  bytes: Uint8Array<ArrayBuffer>;
  summary: ScanSummary;
}

/** `path` (already resolved) or, for `-`, everything on stdin. */
export async function readHashList(file: string, path: string, stdin: Readable): Promise<HashList> {
  const label = file === "-" ? "stdin" : file;
  const bytes = file === "-" ? await readLimited(stdin, label) : await readFile(path, label);
  const summary = scanHashBytes(bytes, () => {});
  if (summary.accepted === 0) {
    const first = summary.invalid[0];
    throw new UsageError(
      `${label} holds no MD5, SHA-1 or SHA-256 hash${first ? ` (${plural(summary.invalidCount, "line")} without one; line ${first.line}: ${first.reason})` : " (it is empty)"}`,
    );
  }
  return { label, bytes, summary };
}

async function readFile(path: string, label: string): Promise<Uint8Array<ArrayBuffer>> {
  try {
    const { size } = await fs.stat(path);
    if (size > MAX_UPLOAD_BYTES) throw tooLarge(label);
    return new Uint8Array(await fs.readFile(path));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : code === "EACCES" ? "permission denied" : (error as Error).message;
    throw new UsageError(`cannot read ${label}: ${why}`);
  }
}

async function readLimited(stream: Readable, label: string): Promise<Uint8Array<ArrayBuffer>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > MAX_UPLOAD_BYTES) throw tooLarge(label);
    chunks.push(chunk as Buffer);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

const tooLarge = (label: string) => new UsageError(`${label} is larger than ${MAX_UPLOAD_LABEL}, the server's upload limit`);

/** "Read hashes.txt: 3 hashes (2 MD5, 1 SHA-256), 1 repeat dropped, 2 lines without a hash (line 4: …)". */
export function describeList({ label, summary }: HashList): string {
  const types = (
    [
      ["md5", "MD5"],
      ["sha1", "SHA-1"],
      ["sha256", "SHA-256"],
    ] as const
  )
    .filter(([type]) => summary.counts[type] > 0)
    .map(([type, name]) => `${summary.counts[type].toLocaleString("en")} ${name}`);
  const parts = [`${plural(summary.accepted, "hash", "hashes")} (${types.join(", ")})`];
  if (summary.duplicates) parts.push(`${plural(summary.duplicates, "repeat")} dropped`);
  if (summary.invalidCount) {
    const shown = summary.invalid.slice(0, 3).map((line) => `line ${line.line} ${JSON.stringify(cell(line.value))}: ${line.reason}`);
    const more = summary.invalidCount > shown.length ? "; …" : "";
    parts.push(`${plural(summary.invalidCount, "line")} without a hash (${shown.join("; ")}${more})`);
  }
  return `Read ${label}: ${parts.join(", ")}`;
}
