// One lookup: a file by one of its names. The cache first; then, if some pending task still wants the name, a
// lease on it, a request slot from the shared budget (all in one statement: look-and-claim.ts), and VirusTotal.
// Whatever happens ends as one Outcome, written by settle() in one fenced statement to the tasks of every job that
// asked for the file, with VirusTotal's answer, stored first whatever follows.
import type { JobHelpers, Task } from "graphile-worker";
import type { BudgetGate } from "@/lib/budget/gate";
import type { RequestLimits } from "@/lib/budget/limits";
import type { Db } from "@/lib/db/client";
import { findFreshReport, recentNotFound, type CachePolicy } from "@/lib/db/queries/reports";
import type { VirusTotalSource } from "@/lib/env";
import { log } from "@/lib/log";
import { hashNameSchema, LOOKUP_TASK, lookupPayloadSchema, type LookupPayload } from "@/lib/lookups/job";
import { VirusTotalError, type AnyVirusTotalError, type VirusTotalClient } from "@/lib/virustotal";
import { outcomeOfRefusal, retryLater } from "../lookup-outcomes";
import { lookAndClaim } from "../look-and-claim";
import { FencedError, releaseLeaseAndWake, settle, type LookupRun, type Outcome } from "../settle";
import { waitForSlot } from "../slot-wait";

export interface LookupDeps {
  db: Db;
  vt: VirusTotalClient;
  source: VirusTotalSource;
  cache: CachePolicy;
  /** Whose quota this worker spends (lib/budget/identity.ts). */
  budget: string;
  limits: RequestLimits;
  quotaRetrySeconds: number;
  maxAttempts: number;
  /** How long a lease on a name outlives a holder that died mid-request. */
  leaseSeconds: number;
  gate: BudgetGate;
  /** Ends the process: this pool was declared dead while it was silent (worker/index.ts). */
  declaredDead: () => never;
}

export function createLookupTask(deps: LookupDeps): Task<typeof LOOKUP_TASK> {
  return async (payload, helpers) => {
    const parsed = lookupPayloadSchema.safeParse(payload);
    const hash = parsed.success ? parsed.data.hash : hashNameSchema.safeParse((payload as { hash?: unknown } | null)?.hash).data;
    if (!parsed.success) {
      // Retrying cannot fix a payload: log it once. Without a hash it stands for nothing and just ends; with one,
      // its tasks fail with a reason rather than wait for a lookup that is gone (settled like any outcome below).
      helpers.logger.error(`lookup: unusable payload ${JSON.stringify(payload)}: ${parsed.error.message}`);
      if (!hash) return;
    }
    const { job } = helpers;
    const run: LookupRun = {
      hash: hash!,
      lock: { jobId: job.id, lockedBy: job.locked_by!, attempts: job.attempts },
      // "<pool>/<job>": the pool part lets the reaper free a dead pool's leases at once (queries/leases.ts).
      holder: `${job.locked_by}/${job.id}`,
      // graphile-worker counts every fetch: a run lost with its worker counts as an attempt too.
      attempt: (parsed.data?.attempt ?? 1) + job.attempts - 1,
      maxAttempts: deps.maxAttempts,
    };
    const started = Date.now();
    let outcome: Outcome;
    try {
      outcome = parsed.success
        ? await lookUp(deps, helpers, run, parsed.data)
        : { kind: "failed", reason: "internal error: the queued lookup was unreadable" };
    } catch (error) {
      // A bug or the database: details go to the log, the tasks show a reason safe to show, and it is tried again.
      log.error({ err: error, hash: run.hash }, "Lookup failed");
      outcome = retryLater(run, "internal error");
    }
    try {
      await settle(deps, run, outcome);
    } catch (error) {
      // The lease may be ours still (a fenced run, a database gone): free it and wake whoever waits for it,
      // without hiding the first error.
      await releaseLeaseAndWake(deps.db, run).catch((releaseError) =>
        log.warn({ err: releaseError, hash: run.hash }, "Could not release the lease after a failed settle"),
      );
      if (error instanceof FencedError) {
        log.warn({ event: "lookup_fenced", hash: run.hash }, error.message);
        deps.declaredDead();
      }
      // The database kept failing: graphile-worker's failure update puts the job back for a later try.
      throw error;
    }
    log.info({ event: "lookup", hash: run.hash, outcome: outcome.kind, ms: Date.now() - started, attempt: run.attempt, fromCache: false, ...describe(outcome) });
  };
}

async function lookUp(deps: LookupDeps, helpers: JobHelpers, run: LookupRun, payload: LookupPayload): Promise<Outcome> {
  const { hash } = run;
  const { look, slot } = await lookAndClaim(deps, run);
  switch (look.kind) {
    case "report":
      return { kind: "completed", report: look.report, source: look.source, fromCache: true };
    case "not_found":
      return { kind: "not_found", fromCache: true };
    case "unwanted":
      // Spend nothing on a name nobody waits for (its only job was cancelled).
      return { kind: "unwanted" };
    case "lease_held":
      // Its holder wakes us when it settles; the lease's expiry bounds the wait if it dies.
      return { kind: "wait", until: look.expiresAt, waitingFor: { for: "lease" }, attempt: run.attempt };
    case "leased":
      break;
  }
  if (!slot) {
    if (slot === null) {
      // No claim: after the budget's lock, the cache had the answer (stored by the lease's previous holder since our
      // look) or no pending task wanted the name any more (its jobs cancelled meanwhile). Settling as unwanted
      // re-reads the tasks under our queue row's lock, and queues the name again if a job wants it after all.
      return (await answerFromCache(deps, hash)) ?? { kind: "unwanted" };
    }
    const waited = await waitForSlot(deps, helpers, run, payload);
    if (waited) return waited;
  }

  let lookup;
  try {
    lookup = await deps.vt.getFile(hash);
  } catch (error) {
    if (!(error instanceof VirusTotalError)) throw error;
    // A network error's own text (the address it failed at) is for operators, not for the report's viewers.
    if (error.cause instanceof Error) log.warn({ hash, detail: error.cause.message }, error.message);
    return outcomeOfRefusal(deps, run, error as AnyVirusTotalError);
  }
  // Stored by the settle, first and whatever the settle then meets (a run fenced while it asked, a settle that
  // fails): the paid answer stays in the cache for whoever asks next.
  return { kind: "completed", report: lookup.summary, source: deps.source, fromCache: false, raw: lookup.raw };
}

/** A fresh report of the file (by any of its names, from an allowed source), or a recent "not found". */
async function answerFromCache(deps: LookupDeps, hash: string): Promise<Outcome | null> {
  const report = await findFreshReport(deps.db, hash, deps.cache);
  if (report) return { kind: "completed", report, source: report.source, fromCache: true };
  if (await recentNotFound(deps.db, hash, deps.cache.sources)) return { kind: "not_found", fromCache: true };
  return null;
}

function describe(outcome: Outcome): Record<string, unknown> {
  switch (outcome.kind) {
    case "completed":
      return { fromCache: outcome.fromCache, detected: outcome.report.detected, engines: outcome.report.engines };
    case "not_found":
      return { fromCache: outcome.fromCache };
    case "failed":
      return { error: outcome.reason };
    case "wait":
      return { waitingFor: outcome.waitingFor.for, until: outcome.until.toISOString(), note: outcome.note };
    case "unwanted":
      return {};
  }
}
