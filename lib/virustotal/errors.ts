// The one classification of VirusTotal failures; callers switch on the class (or `kind`), never on messages.

export type VirusTotalErrorKind = "not_found" | "quota" | "bad_key" | "transient" | "malformed";

export interface VirusTotalErrorDetails {
  status?: number | null;
  /** VirusTotal's error code, e.g. "QuotaExceededError". */
  code?: string | null;
  cause?: unknown;
}

/** Messages are written for an analyst reading a report, and never contain the API key. */
export abstract class VirusTotalError extends Error {
  abstract readonly kind: VirusTotalErrorKind;
  readonly status: number | null;
  readonly code: string | null;

  constructor(message: string, details: VirusTotalErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.status = details.status ?? null;
    this.code = details.code ?? null;
  }
}

/** VirusTotal has never seen the file: a final answer, not a failure to retry. */
export class NotFoundError extends VirusTotalError {
  override readonly name = "NotFoundError";
  readonly kind = "not_found" as const;
}

/** Daily/monthly quota or per-minute rate exceeded; `code` tells QuotaExceededError from TooManyRequestsError. */
export class QuotaExceededError extends VirusTotalError {
  override readonly name = "QuotaExceededError";
  readonly kind = "quota" as const;
}

/** The API key is wrong, disabled or not allowed: every further request will fail the same way. */
export class BadKeyError extends VirusTotalError {
  override readonly name = "BadKeyError";
  readonly kind = "bad_key" as const;
}

/** Worth retrying: timeouts, network errors, 5xx, "not available yet". */
export class TransientError extends VirusTotalError {
  override readonly name = "TransientError";
  readonly kind = "transient" as const;
  /** From a Retry-After header, when VirusTotal sent one. */
  readonly retryAfterSeconds: number | null;

  constructor(message: string, details: VirusTotalErrorDetails & { retryAfterSeconds?: number | null } = {}) {
    super(message, details);
    this.retryAfterSeconds = details.retryAfterSeconds ?? null;
  }
}

/** VirusTotal answered something we cannot use; asking again would get the same answer. */
export class MalformedResponseError extends VirusTotalError {
  override readonly name: string = "MalformedResponseError";
  readonly kind = "malformed" as const;
}

/**
 * VirusTotal refused the request itself (400 InvalidArgumentError, 409, 424…). Permanent like a malformed
 * response, so it shares that kind and class: a caller that handles MalformedResponseError handles this too.
 */
export class RequestRejectedError extends MalformedResponseError {
  override readonly name = "RequestRejectedError";
}

export type AnyVirusTotalError =
  | NotFoundError
  | QuotaExceededError
  | BadKeyError
  | TransientError
  | MalformedResponseError;

/** Retry-After is either delta-seconds or an HTTP date; anything else is ignored. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (value === null) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  // Date.parse is lenient ("-5" is a year); an HTTP date always names its day and month.
  const date = /[a-z]{3}/i.test(trimmed) ? Date.parse(trimmed) : Number.NaN;
  if (Number.isNaN(date)) return null;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

const MAX_DETAIL_LENGTH = 200;

/** VirusTotal's error body is `{"error":{"code","message"}}`; anything else yields nulls. */
function readErrorBody(body: unknown): { code: string | null; message: string | null } {
  const error = typeof body === "object" && body !== null ? (body as { error?: unknown }).error : undefined;
  if (typeof error !== "object" || error === null) return { code: null, message: null };
  const { code, message } = error as { code?: unknown; message?: unknown };
  return {
    code: typeof code === "string" && code !== "" ? code : null,
    message: typeof message === "string" && message !== "" ? message.slice(0, MAX_DETAIL_LENGTH) : null,
  };
}

type Outcome = Exclude<VirusTotalErrorKind, "malformed"> | "rejected" | "unexpected";

// VirusTotal's documented error codes; the code decides when present, the status otherwise.
const OUTCOME_BY_CODE: Record<string, Outcome> = {
  NotFoundError: "not_found",
  QuotaExceededError: "quota",
  TooManyRequestsError: "quota",
  WrongCredentialsError: "bad_key",
  AuthenticationRequiredError: "bad_key",
  UserNotActiveError: "bad_key",
  ForbiddenError: "bad_key",
  TransientError: "transient",
  DeadlineExceededError: "transient",
  // Sent with a 400, but means "ask again later".
  NotAvailableYet: "transient",
};

function outcomeOfStatus(status: number): Outcome {
  if (status === 404) return "not_found";
  if (status === 429) return "quota";
  if (status === 401 || status === 403) return "bad_key";
  if (status === 408 || status >= 500) return "transient";
  if (status >= 400) return "rejected";
  return "unexpected";
}

/** Turns a non-2xx answer into the error class callers act on. `body` is the parsed JSON, or the raw text. */
export function classifyHttpError(status: number, body: unknown, headers: Headers): VirusTotalError {
  const { code, message } = readErrorBody(body);
  const known = code !== null && Object.hasOwn(OUTCOME_BY_CODE, code);
  const outcome = known ? OUTCOME_BY_CODE[code] : outcomeOfStatus(status);
  // VirusTotal's own words when it gave them ("WrongCredentialsError: Wrong API key"), the status otherwise.
  const detail = `${code ?? `HTTP ${status}`}${message ? `: ${message}` : ""}`;
  const details = { status, code };

  switch (outcome) {
    case "not_found":
      return new NotFoundError(`VirusTotal has no report for this file (${detail})`, details);
    case "quota": {
      const what = code === "TooManyRequestsError" ? "request rate limit reached" : "API quota exceeded";
      return new QuotaExceededError(`VirusTotal ${what} (${detail})`, details);
    }
    case "bad_key":
      return new BadKeyError(`VirusTotal rejected the API key (${detail})`, details);
    case "transient": {
      const retryAfterSeconds = parseRetryAfter(headers.get("retry-after"));
      const retry = retryAfterSeconds === null ? "" : `; retry after ${retryAfterSeconds} s`;
      return new TransientError(`VirusTotal is temporarily unavailable (${detail}${retry})`, {
        ...details,
        retryAfterSeconds,
      });
    }
    case "rejected":
      return new RequestRejectedError(`VirusTotal rejected the request (${detail})`, details);
    case "unexpected":
      return new MalformedResponseError(`VirusTotal answered with an unexpected HTTP status ${status}`, details);
  }
}
