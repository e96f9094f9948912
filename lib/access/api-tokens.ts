// Optional tokens for a shared deployment (API_TOKENS): when set, creating a job, cancelling and retrying need
// `Authorization: Bearer <one of them>`. Reading a report never does: its link is the key.
import { createHash, timingSafeEqual } from "node:crypto";
import { env } from "@/lib/env";
import { AppError } from "@/lib/errors";

export function apiTokensRequired(): boolean {
  return env().apiTokens.length > 0;
}

/** Compared as SHA-256 digests, in constant time, against every configured token (no early exit on a match). */
export function isApiToken(given: string | null | undefined, tokens: readonly string[] = env().apiTokens): boolean {
  if (!given) return false;
  const digest = (text: string) => createHash("sha256").update(text).digest();
  const candidate = digest(given);
  let found = false;
  for (const token of tokens) found = timingSafeEqual(candidate, digest(token)) || found;
  return found;
}

export function bearerToken(request: Request): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get("authorization") ?? "");
  return match ? match[1] : null;
}

/** Refuses the request unless tokens are off or it carries a valid one. */
export function assertApiToken(token: string | null | undefined): void {
  if (!apiTokensRequired() || isApiToken(token)) return;
  throw new AppError(
    "unauthorized",
    token ? "This API token is not valid here." : "This deployment needs an API token: send Authorization: Bearer <token>.",
  );
}
