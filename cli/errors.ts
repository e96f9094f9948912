// What ends a command early, and the exit code each ending means (README, "Command-line client").
import type { JobReport } from "@/lib/jobs/api-schema";

export const EXIT = {
  /** Every hash has an answer: completed, or not found. */
  ok: 0,
  /** The job is done, but some hashes have no answer: failed, or cancelled. */
  unanswered: 1,
  /** A usage mistake, or an error from the server or the network. */
  error: 2,
  /** Lookups are still pending: --timeout reached, or `get` of a job not done yet. */
  pending: 3,
  /** Interrupted (Ctrl-C), as shells count a SIGINT. */
  interrupted: 130,
} as const;

/** A mistake in the command line or its input, found before anything is sent. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A mistake in the command line itself: the usage is worth a look. */
export class ArgumentError extends UsageError {
  override name = "ArgumentError";
}

/** The server refused, answered something unexpected, or could not be reached. */
export class ApiError extends Error {
  override name = "ApiError";

  constructor(
    message: string,
    /** The HTTP status; null when no answer came. */
    readonly status: number | null = null,
    /** The API's stable error code, when it sent one. */
    readonly code: string | null = null,
    /** The answer's Retry-After, when it had one. */
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
  }

  /** Worth asking again: no answer came, or the server said it was unavailable for now. */
  get transient(): boolean {
    return this.status === null || this.status === 502 || this.status === 503 || this.status === 504;
  }
}

/**
 * A job's exit code from its counts. Cancelled counts with failed: nothing will answer those hashes, and a script
 * that trusts exit 0 must be able to trust that every hash was looked up.
 */
export function exitCodeOf(counts: JobReport["counts"]): number {
  if (counts.pending > 0) return EXIT.pending;
  if (counts.failed > 0 || counts.cancelled > 0) return EXIT.unanswered;
  return EXIT.ok;
}
