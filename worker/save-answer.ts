// Storing an answer VirusTotal gave: the request is paid for, so a failed save is tried again, not the request.
// Content cannot make it fail (lib/virustotal sanitizes every answer); a database gone for a moment can.
import { isConflict, isConnectionLoss, withRetries } from "@/lib/db/retry";
import { log } from "@/lib/log";

/** How long a paid answer's store is tried: longer than a settle alone (worker/settle.ts), through a restart. */
export const ANSWER_RETRY = {
  tries: 8,
  baseDelayMs: 250,
  maxDelayMs: 8000,
  retryIf: (error: unknown) => isConflict(error) || isConnectionLoss(error),
};

export function saveAnswer(hash: string, save: () => Promise<void>): Promise<void> {
  return withRetries(save, {
    ...ANSWER_RETRY,
    onRetry: (error, attempt) => log.warn({ err: error, hash, attempt }, "Saving VirusTotal's answer failed; trying the save again"),
  });
}
