// Who may cancel or retry a job: whoever holds its manage token, an HMAC of the job id under the server's secret.
// Nothing secret is stored per job, and the token of any job can be computed again from its id.
import { createHmac, timingSafeEqual } from "node:crypto";
import { AppError } from "@/lib/errors";
import { appSecret } from "./secret";

export const MANAGE_TOKEN_HEADER = "x-manage-token";

export function manageTokenFor(jobId: string, secret = appSecret()): string {
  return createHmac("sha256", secret).update(`manage:${jobId}`).digest("base64url");
}

export function isManageToken(jobId: string, token: string | null, secret = appSecret()): boolean {
  if (!token) return false;
  const expected = Buffer.from(manageTokenFor(jobId, secret));
  const given = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Refuses a request without the job's manage token in X-Manage-Token (before any query: existence is not told). */
export function assertCanManage(request: Request, jobId: string): void {
  if (!isManageToken(jobId, request.headers.get(MANAGE_TOKEN_HEADER))) {
    throw new AppError("forbidden", "Managing a job needs its manage token in the X-Manage-Token header (given when the job was created).");
  }
}
