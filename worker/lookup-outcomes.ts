// What a lookup makes of VirusTotal's refusals and of its own failures: an Outcome for settle() to write.
import { startPause } from "@/lib/db/queries/budget";
import { recordNotFound } from "@/lib/db/queries/reports";
import { pauseForBadKey, pauseForQuota, transientRetryDelayMs } from "@/lib/budget/pauses";
import type { AnyVirusTotalError } from "@/lib/virustotal";
import type { Outcome, LookupRun } from "./settle";
import type { LookupDeps } from "./tasks/lookup";
import { saveAnswer } from "./save-answer";

export async function outcomeOfRefusal(deps: LookupDeps, run: LookupRun, error: AnyVirusTotalError): Promise<Outcome> {
  switch (error.kind) {
    case "not_found":
      await saveAnswer(run.hash, () => recordNotFound(deps.db, run.hash, deps.source));
      return { kind: "not_found", fromCache: false };
    case "quota":
    case "bad_key": {
      // Nothing calls VirusTotal with this key until the pause ends; this lookup waits for it without spending
      // an attempt, and records what it waits for, so that whoever ends the pause can wake it.
      const pause = error.kind === "quota" ? await pauseForQuota(deps, error) : pauseForBadKey(error);
      await startPause(deps.db, deps.budget, pause);
      deps.gate.closeForPause(pause.until);
      return { kind: "wait", until: pause.until, waitingFor: { for: "pause", budget: deps.budget, cause: pause.cause }, attempt: run.attempt };
    }
    case "malformed":
      return { kind: "failed", reason: error.message };
    case "transient":
      return retryLater(run, error.message, error.retryAfterSeconds);
  }
}

/** A failure that another attempt may cure: backoff (or VirusTotal's Retry-After), until the attempts run out. */
export function retryLater(run: LookupRun, message: string, retryAfterSeconds: number | null = null): Outcome {
  if (run.attempt >= run.maxAttempts) return { kind: "failed", reason: `Gave up after ${run.attempt} attempts: ${message}` };
  const until = new Date(Date.now() + transientRetryDelayMs(run.attempt, retryAfterSeconds));
  return {
    kind: "wait",
    until,
    waitingFor: { for: "backoff" },
    attempt: run.attempt + 1,
    note: `${message} (attempt ${run.attempt} of ${run.maxAttempts})`,
  };
}
