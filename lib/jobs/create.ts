// Creating a job: the rows and the queue jobs in one transaction, shared by the server action and the API route.
import { randomBytes } from "node:crypto";
import { parseHashList, parseHashText, type InvalidLine, type ParseResult } from "@/lib/hashes";
import type { Db } from "@/lib/db/client";
import {
  completeTasksFromCache,
  enqueueLookups,
  insertJob,
  insertTasks,
  markTasksNotFoundFromCache,
  type CachePolicy,
} from "@/lib/db/queries/jobs";
import { countSavedRequests } from "@/lib/db/queries/virustotal-budget";
import { AppError } from "@/lib/errors";

export type JobInput = { text: string; name?: string | null } | { hashes: readonly string[]; name?: string | null };

export interface CreateJobOptions {
  cache: CachePolicy;
  lookupMaxAttempts: number;
  /** The request budget whose "saved by the cache" counter a job answered from the cache adds to. */
  budget?: string;
  /** Test hook: runs inside the transaction after the rows are written, before the queue jobs are added. */
  beforeEnqueue?: () => Promise<void>;
}

export interface CreatedJob {
  id: string;
  accepted: number;
  duplicates: number;
  invalid: InvalidLine[];
  invalidCount: number;
  queued: number;
}

/** 128 bits from a CSPRNG: a report's URL is its only access control. */
export function newJobId(): string {
  return randomBytes(16).toString("base64url");
}

export async function createJob(db: Db, input: JobInput, options: CreateJobOptions): Promise<CreatedJob> {
  const parsed: ParseResult = "text" in input ? parseHashText(input.text) : parseHashList(input.hashes);
  if (parsed.hashes.length === 0) throw noValidHashes(parsed);

  const id = newJobId();
  const queued = await db.transaction(async (tx) => {
    await insertJob(tx, {
      id,
      name: input.name?.trim() || null,
      total: parsed.hashes.length,
      duplicates: parsed.duplicates,
      invalidLines: parsed.invalid,
      invalidCount: parsed.invalidCount,
    });
    await insertTasks(tx, id, parsed.hashes);
    await completeTasksFromCache(tx, id, options.cache);
    await markTasksNotFoundFromCache(tx, id, options.cache.sources);
    await options.beforeEnqueue?.();
    const queued = await enqueueLookups(tx, id, options.lookupMaxAttempts);
    if (options.budget) await countSavedRequests(tx, options.budget, parsed.hashes.length - queued);
    return queued;
  });

  return {
    id,
    accepted: parsed.hashes.length,
    duplicates: parsed.duplicates,
    invalid: parsed.invalid,
    invalidCount: parsed.invalidCount,
    queued,
  };
}

function noValidHashes(parsed: ParseResult): AppError {
  if (parsed.invalidCount === 0) return new AppError("no_valid_hashes", "The input holds no hashes.");
  const first = parsed.invalid[0];
  return new AppError(
    "no_valid_hashes",
    `No MD5, SHA-1 or SHA-256 hash found in ${parsed.invalidCount} line${parsed.invalidCount === 1 ? "" : "s"} ` +
      `(line ${first.line}: ${first.reason}).`,
  );
}
