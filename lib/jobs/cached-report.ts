// One file's report as the cache holds it, by any of its three names, without spending a request: what a script asks
// before submitting, or to look one file up again. Only what a job would be answered with from the cache is shown:
// fresh (CACHE_TTL_HOURS) and, while a real key is set, VirusTotal's own, never the simulator's.
import type { Executor } from "@/lib/db/client";
import { findFreshReport, recentNotFound, type CachePolicy } from "@/lib/db/queries/reports";
import { AppError } from "@/lib/errors";
import { hashTypeOf } from "@/lib/hashes";
import type { HashReport } from "./api-schema";

export async function readCachedReport(db: Executor, given: string, policy: CachePolicy): Promise<HashReport> {
  const hash = given.trim().toLowerCase();
  const hashType = hashTypeOf(hash);
  if (!hashType) throw new AppError("invalid_parameter", "The hash must be an MD5, SHA-1 or SHA-256: 32, 40 or 64 hexadecimal digits.");
  const report = await findFreshReport(db, hash, policy);
  if (!report) {
    const notFoundAt = await recentNotFound(db, hash, policy.sources);
    throw new AppError(
      "not_found",
      notFoundAt
        ? `VirusTotal did not know this file when it was asked at ${notFoundAt.toISOString()}.`
        : `No report of this file fetched in the last ${policy.ttlHours} hours; submit it as a job to look it up.`,
    );
  }
  return {
    hash,
    hashType,
    status: "completed",
    sha256: report.sha256,
    md5: report.md5,
    sha1: report.sha1,
    fortinet: report.fortinet,
    fortinetCategory: report.fortinetCategory,
    detected: report.detected,
    engines: report.engines,
    scanDate: report.scanDate?.toISOString() ?? null,
    meaningfulName: report.meaningfulName,
    fileType: report.fileType,
    error: null,
    retryAt: null,
    source: report.source,
    fetchedAt: report.fetchedAt.toISOString(),
    ageSeconds: Math.max(0, Math.floor((Date.now() - report.fetchedAt.getTime()) / 1000)),
  };
}
