import { AppError, causeOf, toAppError, type ErrorBody } from "@/lib/errors";
import { log } from "@/lib/log";

export function errorResponse(error: AppError): Response {
  const headers = new Headers();
  if (error.code === "unauthorized") headers.set("www-authenticate", 'Bearer realm="hashscan"');
  if (error.retryAfterSeconds !== undefined) headers.set("retry-after", String(error.retryAfterSeconds));
  const body = { error: { code: error.code, message: error.message } } satisfies ErrorBody;
  return Response.json(body, { status: error.status, headers });
}

/** Runs a route body; anything thrown becomes `{"error":{"code","message"}}`, internals go to the log only. */
export async function respond(handler: () => Promise<Response>): Promise<Response> {
  try {
    return await handler();
  } catch (error) {
    const appError = toAppError(error);
    // The database being down is one fact, not a new bug per request: said once per answer, without a stack.
    if (appError.code === "unavailable") log.warn({ cause: causeOf(error) }, "API answered unavailable: the database does not answer");
    else if (appError.status >= 500) log.error({ err: error }, `API error answered as ${appError.code}`);
    return errorResponse(appError);
  }
}
