import { randomBytes } from "node:crypto";

/** 128 bits from a CSPRNG: a report's URL is its only access control. Checked for shape by isJobId (api-schema). */
export function newJobId(): string {
  return randomBytes(16).toString("base64url");
}
