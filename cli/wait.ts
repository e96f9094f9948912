// Waiting for a job: its summary polled (one row, revalidated with its ETag, so an unchanged job costs no body)
// until nothing is pending or the deadline passes. A server that stops answering for a while (a restart) is waited
// out, up to MAX_OUTAGE_MS; any other refusal ends the wait.
import type { JobReport } from "@/lib/jobs/api-schema";
import type { HashscanApi } from "./api-client";
import { ApiError } from "./errors";
import type { ProgressReporter } from "./progress";

const POLL_MS = 2000;
/** While lookups wait out a pause (a quota can hold them until the next UTC day), a poll every few seconds tells nothing new. */
const PAUSED_POLL_MS = 10_000;
const MAX_OUTAGE_MS = 5 * 60_000;

export interface WaitOptions {
  /** Date.now() past which the wait ends with lookups still pending; null to wait as long as it takes. */
  deadline: number | null;
  progress: ProgressReporter;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** The job's summary once nothing is pending, or as it stood at the deadline. */
export async function waitForJob(api: HashscanApi, id: string, options: WaitOptions): Promise<JobReport> {
  const { deadline, progress, now = Date.now, sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms)) } = options;
  let last: JobReport | undefined;
  let etag: string | undefined;
  let failingSince: number | null = null;
  for (;;) {
    try {
      // Once there is a report to print, a poll ends at the deadline too (or POLL_MS after it starts, the last one): a
      // server that stops answering must not hold --timeout past it. Before the first, a poll has its own timeout:
      // there is nothing to print without one.
      const until = last && deadline !== null ? Math.max(deadline, now() + POLL_MS) : null;
      const answer = await api.report(id, { limit: "1" }, etag, until);
      if (answer) {
        last = answer.report;
        etag = answer.etag ?? undefined;
      }
      failingSince = null;
      if (last) progress.update(last);
    } catch (error) {
      if (!(error instanceof ApiError) || !error.transient) throw error;
      failingSince ??= now();
      if (now() - failingSince > MAX_OUTAGE_MS) throw error;
      progress.note(`${error.message}; asking again`);
    }
    if (last && last.counts.pending === 0) return last;
    if (deadline !== null && now() >= deadline) {
      if (last) return last;
      throw new ApiError(`${api.server} did not answer before the timeout`);
    }
    const paused = last?.pause && Date.parse(last.pause.until) - now() > PAUSED_POLL_MS;
    const interval = paused ? PAUSED_POLL_MS : POLL_MS;
    await sleep(deadline === null ? interval : Math.max(0, Math.min(interval, deadline - now())));
  }
}
