// The one error type the API answers with: a stable code, an HTTP status, and a message safe to show a user.

import { z } from "zod";

/** Every code the API answers errors with; stable, for scripts to switch on. */
export const appErrorCodeSchema = z.enum([
  "invalid_json",
  "invalid_parameter",
  "no_valid_hashes",
  "unauthorized",
  "forbidden",
  "not_found",
  "conflict",
  "payload_too_large",
  "unsupported_media_type",
  "rate_limited",
  "internal",
  "unavailable",
]);
export type AppErrorCode = z.infer<typeof appErrorCodeSchema>;

/** Each code's HTTP status, and what it means to the caller (the API reference lists these). */
export const ERROR_CODES: Record<AppErrorCode, { status: number; meaning: string }> = {
  invalid_json: { status: 400, meaning: "The JSON body does not parse." },
  invalid_parameter: { status: 400, meaning: "A query parameter, header or body field is malformed, or the upload was cut off." },
  no_valid_hashes: { status: 400, meaning: "The input holds no MD5, SHA-1 or SHA-256 hash." },
  unauthorized: { status: 401, meaning: "API_TOKENS is set and the request has no Authorization: Bearer token, or an unknown one." },
  forbidden: { status: 403, meaning: "The job's manage token is missing or wrong, or a browser sent the request from another site." },
  not_found: { status: 404, meaning: "No such job, or no fresh cached report of that file." },
  conflict: { status: 409, meaning: "The job was cancelled (retry), or the Idempotency-Key was used for another request." },
  payload_too_large: { status: 413, meaning: "The upload, or the number of hashes, is past a limit." },
  unsupported_media_type: { status: 415, meaning: "The Content-Type or Content-Encoding of the body is not one the API reads." },
  rate_limited: { status: 429, meaning: "The client is past its per-client limits; Retry-After says when to try again." },
  internal: { status: 500, meaning: "A bug on our side; the detail is in the server's log, not in the answer." },
  unavailable: { status: 503, meaning: "The database does not answer, or too many exports are running; try again shortly." },
};

/** The body of every error answer. */
export const errorBodySchema = z.object({
  error: z.object({
    code: appErrorCodeSchema,
    message: z.string().describe("What went wrong, safe to show a user; its wording may change, the code does not."),
  }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

export class AppError extends Error {
  readonly status: number;

  constructor(
    readonly code: AppErrorCode,
    message: string,
    /** When trying again can succeed (answered as Retry-After). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = "AppError";
    this.status = ERROR_CODES[code].status;
  }
}

const CONNECTION_ERRORS = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENOTFOUND", "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECT_TIMEOUT", "CONNECTION_DESTROYED", "57P01", "57P03"]);

/** Maps anything thrown to an AppError; database outages become `unavailable`, the rest `internal`. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const code = (error as { code?: unknown } | null)?.code ?? (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  if (typeof code === "string" && CONNECTION_ERRORS.has(code)) {
    return new AppError("unavailable", "The database is unavailable; try again shortly.");
  }
  return new AppError("internal", "Something went wrong on our side.");
}

/** The innermost error's own words: Drizzle wraps the driver's error in one whose message repeats the whole query. */
export function causeOf(error: unknown): string {
  let inner = error;
  while (inner instanceof Error && inner.cause !== undefined) inner = inner.cause;
  if (!(inner instanceof Error)) return String(inner);
  return inner.message || (inner as NodeJS.ErrnoException).code || inner.name;
}
