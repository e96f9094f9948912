// Creating a job: the rows and the queue jobs in one transaction, shared by the server action and the API route.
import type { InvalidLine } from "@/lib/hashes";
import { parseUploadList, parseUploadText, type ParsedUpload } from "@/lib/hashes/upload";
import type { Db } from "@/lib/db/client";
import { countSavedRequests } from "@/lib/db/queries/budget";
import { lockClient, placeInLine } from "@/lib/db/queries/clients";
import { findKeptRequest, keepRequest } from "@/lib/db/queries/idempotency";
import { insertJob, setQueuePlace } from "@/lib/db/queries/jobs";
import type { Job } from "@/lib/db/schema";
import { enqueueLookups, type Line } from "@/lib/db/queries/queue";
import type { CachePolicy } from "@/lib/db/queries/reports";
import {
  completeTasksFromCache,
  copyTasks,
  countPendingTasks,
  markTasksNotFoundFromCache,
  pendingLookupsOfJob,
} from "@/lib/db/queries/tasks";
import { retryingTransaction } from "@/lib/db/retry";
import { assertWithinClientLimits, type ClientLimits } from "@/lib/access/client-limits";
import { concurrencyLimit } from "@/lib/concurrency";
import { AppError } from "@/lib/errors";
import { newJobId } from "./job-id";

/** Text or a list to parse here, or an upload already parsed (off the event loop: lib/api/parse-off-thread). */
export type JobInput = { name?: string | null } & ({ text: string } | { hashes: readonly string[] } | { upload: ParsedUpload });

export interface CreateJobOptions {
  cache: CachePolicy;
  lookupMaxAttempts: number;
  /** Distinct hashes a job may hold (JOB_MAX_HASHES); more is refused as too large. */
  maxHashes?: number;
  /** Who submits it (lib/access/client.ts) and what that client may submit; without it, no limit and a line of its own. */
  client?: { id: string; limits: ClientLimits };
  /**
   * The client's Idempotency-Key and what identifies its request (lib/api/job-input.ts): the job this key created
   * within a day is answered again instead of a new one, and another request under the key is refused. Needs `client`.
   */
  idempotency?: { key: string; requestDigest: string };
  /** The request budget whose "saved by the cache" counter a job answered from the cache adds to. */
  budget?: string;
  /** Test hook: runs inside the transaction after the rows are written, before the queue jobs are added. */
  beforeEnqueue?: () => Promise<void>;
  /** Test hook: runs inside the transaction once the queue jobs are added (and shared rows locked), before commit. */
  beforeCommit?: () => Promise<void>;
}

export interface CreatedJob {
  id: string;
  accepted: number;
  duplicates: number;
  invalid: InvalidLine[];
  invalidCount: number;
  queued: number;
  /** The job this request's Idempotency-Key created earlier, answered again: nothing was written. */
  replayed: boolean;
}

/**
 * Creations in one process take a database connection two at a time, the rest waiting their turn without one: adding
 * lookups is one creation at a time anyway (the key space's lock), and twenty uploads each holding a connection while
 * they wait for that lock left the web process's pool none for report reads (polls went unanswered for a minute).
 */
const creations = concurrencyLimit(2);

export function tooManyHashes(count: number, max: number): AppError {
  return new AppError(
    "payload_too_large",
    `A job holds at most ${max.toLocaleString("en")} distinct hashes (JOB_MAX_HASHES); this one has ${count.toLocaleString("en")}. Split the list.`,
  );
}

export async function createJob(db: Db, input: JobInput, options: CreateJobOptions): Promise<CreatedJob> {
  const parsed =
    "upload" in input ? input.upload : "text" in input ? parseUploadText(input.text, newJobId()) : parseUploadList(input.hashes, newJobId());
  if (parsed.accepted === 0) throw noValidHashes(parsed);
  if (options.maxHashes !== undefined && parsed.accepted > options.maxHashes) throw tooManyHashes(parsed.accepted, options.maxHashes);

  const id = parsed.jobId;
  const written = await creations(() => retryingTransaction(db, async (tx) => {
    if (options.client) {
      await lockClient(tx, options.client.id);
      // Under the client's lock: of two identical requests at once, the second finds the first's job here.
      const kept = options.idempotency && (await findKeptRequest(tx, options.client.id, options.idempotency.key));
      if (kept) {
        if (kept.requestDigest !== options.idempotency!.requestDigest) throw idempotencyConflict();
        return { replayOf: kept.job };
      }
      await assertWithinClientLimits(tx, options.client.id, parsed.accepted, options.client.limits);
    } else if (options.idempotency) {
      throw new Error("An Idempotency-Key is kept per client: createJob needs options.client with it");
    }
    await insertJob(tx, {
      id,
      clientId: options.client?.id ?? null,
      name: input.name?.trim() || null,
      total: parsed.accepted,
      duplicates: parsed.duplicates,
      invalidLines: parsed.invalid,
      invalidCount: parsed.invalidCount,
    });
    if (options.idempotency) await keepRequest(tx, options.client!.id, options.idempotency.key, options.idempotency.requestDigest, id);
    await copyTasks(tx, parsed.rows);
    await completeTasksFromCache(tx, id, options.cache);
    await markTasksNotFoundFromCache(tx, id, options.cache.sources);
    await options.beforeEnqueue?.();
    // A job answered whole from the cache queues nothing, and takes no lock that queueing takes.
    const pending = await countPendingTasks(tx, id);
    let queued = 0;
    if (pending > 0) {
      const line: Line | undefined = options.client ? await placeInLine(tx, options.client.id, pending, id) : undefined;
      const { queued: added, ...place } = await enqueueLookups(tx, pendingLookupsOfJob(id), options.lookupMaxAttempts, line);
      if (added > 0) await setQueuePlace(tx, id, place);
      queued = added;
    }
    if (options.budget) await countSavedRequests(tx, options.budget, parsed.accepted - queued);
    await options.beforeCommit?.();
    return { queued };
  }));

  if (written.replayOf !== undefined) return replayed(written.replayOf);
  return {
    id,
    accepted: parsed.accepted,
    duplicates: parsed.duplicates,
    invalid: parsed.invalid,
    invalidCount: parsed.invalidCount,
    queued: written.queued,
    replayed: false,
  };
}

/**
 * The job a key created, as its creation answered it: every field comes from its row, unchanged since. Read in the
 * transaction that found the key, so retention expiring it a moment later cannot turn the replay into an error.
 */
function replayed(job: Job): CreatedJob {
  return {
    id: job.id,
    accepted: job.total,
    duplicates: job.duplicates,
    invalid: job.invalidLines,
    invalidCount: job.invalidCount,
    queued: 0,
    replayed: true,
  };
}

function idempotencyConflict(): AppError {
  return new AppError(
    "conflict",
    "This Idempotency-Key was sent within the last 24 hours with another request (another list or name); use a new key for a new job.",
  );
}

function noValidHashes(parsed: Pick<ParsedUpload, "invalid" | "invalidCount">): AppError {
  if (parsed.invalidCount === 0) return new AppError("no_valid_hashes", "The input holds no hashes.");
  const first = parsed.invalid[0];
  return new AppError(
    "no_valid_hashes",
    `No MD5, SHA-1 or SHA-256 hash found in ${parsed.invalidCount} line${parsed.invalidCount === 1 ? "" : "s"} ` +
      `(line ${first.line}: ${first.reason}).`,
  );
}
