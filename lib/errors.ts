// The one error type the API answers with: a stable code, an HTTP status, and a message safe to show a user.

export type AppErrorCode =
  | "invalid_json"
  | "invalid_parameter"
  | "no_valid_hashes"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "payload_too_large"
  | "unsupported_media_type"
  | "rate_limited"
  | "internal"
  | "unavailable";

const STATUS: Record<AppErrorCode, number> = {
  invalid_json: 400,
  invalid_parameter: 400,
  no_valid_hashes: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
};

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
    this.status = STATUS[code];
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
