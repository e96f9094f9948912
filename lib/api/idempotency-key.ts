// The `Idempotency-Key` header of a job submission (the IETF httpapi draft's): a client's own name for one request,
// so that sending it again (after a timeout, a dropped connection) answers the job it created instead of a second.
import { AppError } from "@/lib/errors";

export const IDEMPOTENCY_KEY_HEADER = "idempotency-key";
const MAX_KEY_LENGTH = 255;

/** The key, or null when none was sent; a key that is empty, too long or not printable ASCII is a 400. */
export function idempotencyKeyOf(headers: Headers): string | null {
  const key = headers.get(IDEMPOTENCY_KEY_HEADER);
  if (key === null) return null;
  // The draft's key is a string (a UUID, say): quotes around it are its structured-field form, taken off.
  const bare = key.trim().replace(/^"(.*)"$/, "$1");
  if (!/^[\x21-\x7e]+$/.test(bare) || bare.length > MAX_KEY_LENGTH) {
    throw new AppError("invalid_parameter", `Idempotency-Key must be 1 to ${MAX_KEY_LENGTH} printable ASCII characters without spaces (a UUID, say).`);
  }
  return bare;
}
