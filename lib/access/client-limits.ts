// The per-client limits (CLIENT_JOBS_PER_HOUR, CLIENT_HASHES_PER_DAY): checked when a job is created, under the
// client's lock and in the transaction that writes the job, so that two submissions at once cannot both slip under.
import type { Executor } from "@/lib/db/client";
import { clientUsage } from "@/lib/db/queries/clients";
import { AppError } from "@/lib/errors";
import { plural } from "@/lib/plural";

export interface ClientLimits {
  /** 0: no limit. */
  jobsPerHour: number;
  /** 0: no limit. */
  hashesPerDay: number;
}

/** Refuses a job of `hashes` distinct hashes past the client's limits: 429 with when to try again. */
export async function assertWithinClientLimits(db: Executor, clientId: string, hashes: number, limits: ClientLimits): Promise<void> {
  if (limits.jobsPerHour === 0 && limits.hashesPerDay === 0) return;
  if (limits.hashesPerDay > 0 && hashes > limits.hashesPerDay) {
    throw new AppError(
      "payload_too_large",
      `This job has ${count(hashes)} hashes, more than one client may submit in 24 hours (CLIENT_HASHES_PER_DAY, ${count(limits.hashesPerDay)}). Split the list.`,
    );
  }
  const usage = await clientUsage(db, clientId, hashes, limits);
  if (usage.jobsRoomInSeconds !== null) {
    throw new AppError(
      "rate_limited",
      `You have submitted ${plural(usage.jobsLastHour, "job")} in the last hour, the most allowed (CLIENT_JOBS_PER_HOUR); ` +
        `try again in ${duration(usage.jobsRoomInSeconds)}.`,
      usage.jobsRoomInSeconds,
    );
  }
  if (usage.hashesRoomInSeconds !== null) {
    throw new AppError(
      "rate_limited",
      `You have submitted ${count(usage.hashesLastDay)} hashes in the last 24 hours; ${count(hashes)} more would pass the ` +
        `${count(limits.hashesPerDay)} allowed (CLIENT_HASHES_PER_DAY). Try again in ${duration(usage.hashesRoomInSeconds)}.`,
      usage.hashesRoomInSeconds,
    );
  }
}

const count = (n: number) => n.toLocaleString("en");

function duration(seconds: number): string {
  if (seconds < 90) return plural(seconds, "second");
  if (seconds < 90 * 60) return plural(Math.ceil(seconds / 60), "minute");
  return plural(Math.ceil(seconds / 3600), "hour");
}
