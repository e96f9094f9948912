// Retrying database work that failed for a reason a second try can cure: a deadlock or serialization failure
// (the transaction was rolled back whole), or a connection lost for a moment. Bounded, with jittered backoff.
import { log } from "@/lib/log";
import type { Db, Tx } from "./client";

// Postgres SQLSTATEs: a rolled-back transaction that can simply run again.
const CONFLICT_CODES = new Set(["40P01", "40001"]);
// Postgres SQLSTATEs and postgres.js codes of a connection that went away (a restart, a network blip).
const CONNECTION_CODES = new Set([
  "08000", "08003", "08006", "08001", "08004", "57P01", "57P02", "57P03",
  "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED", "CONNECT_TIMEOUT", "ECONNREFUSED", "ECONNRESET", "EPIPE",
]);

/** The Postgres or driver code of an error, looking through Drizzle's wrapper (its `cause`). */
export function errorCode(error: unknown): string | undefined {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
  }
  return undefined;
}

export const isConflict = (error: unknown) => CONFLICT_CODES.has(errorCode(error) ?? "");
export const isConnectionLoss = (error: unknown) => CONNECTION_CODES.has(errorCode(error) ?? "");

export interface RetryOptions {
  /** Tries in all, the first included. */
  tries: number;
  /** The first wait; each next one doubles, with full jitter, capped at `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs?: number;
  retryIf: (error: unknown) => boolean;
  onRetry?: (error: unknown, attempt: number) => void;
}

export async function withRetries<T>(work: () => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= options.tries || !options.retryIf(error)) throw error;
      options.onRetry?.(error, attempt);
      const ceiling = Math.min(options.baseDelayMs * 2 ** (attempt - 1), options.maxDelayMs ?? Infinity);
      await new Promise((resolve) => setTimeout(resolve, ceiling / 2 + Math.random() * (ceiling / 2)));
    }
  }
}

/**
 * A transaction that runs again when Postgres rolled it back for a deadlock or a serialization failure, instead
 * of failing the request: job creation, cancel and retry share queue rows with each other and with the worker.
 */
export function retryingTransaction<T>(db: Db, work: (tx: Tx) => Promise<T>): Promise<T> {
  return withRetries(() => db.transaction(work), {
    tries: 4,
    baseDelayMs: 50,
    retryIf: isConflict,
    onRetry: (error, attempt) => log.warn({ event: "transaction_retried", code: errorCode(error), attempt }, "A transaction was rolled back by Postgres; running it again"),
  });
}
