import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { getDb } from "@/lib/db/client";
import { reportFilterSchema } from "@/lib/jobs/api-schema";
import { REPORT_PAGE_SIZE } from "@/lib/jobs/upload-limits";
import { buildJobReport, findReportJob } from "@/lib/jobs/report";
import { plural } from "@/lib/plural";
import { LocalTime } from "../../local-time";
import { InvalidLines } from "./invalid-lines";
import { JobResults } from "./job-results";
import { viewOf } from "./report-query";

export const metadata: Metadata = { title: "Hashscan report" };

export default async function JobPage({
  params,
  searchParams,
}: {
  params: Promise<{ id: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { id } = await params;
  const db = getDb();
  const job = await findReportJob(db, id);
  if (!job) notFound();
  // The filters in the address (a shared link keeps them); anything unreadable there is ignored, not an error page.
  const given = Object.fromEntries(Object.entries(await searchParams).filter((e): e is [string, string] => typeof e[1] === "string"));
  const parsed = reportFilterSchema.safeParse(given);
  const filter = parsed.success ? parsed.data : { sort: "position" as const };
  const { report } = await buildJobReport(db, job, { ...filter, limit: REPORT_PAGE_SIZE });

  return (
    <div className="space-y-6">
      <div>
        <h1 className="text-2xl font-semibold break-words">{job.name ?? "Hash report"}</h1>
        <p className="mt-1 text-sm text-slate-600 dark:text-slate-400">
          Submitted <LocalTime iso={job.createdAt.toISOString()} /> · {plural(job.total, "distinct hash", "distinct hashes")} ·{" "}
          {plural(job.duplicates, "duplicate")} dropped · {plural(job.invalidCount, "line")} without a hash
          {report.source === "simulator" && " · answered by the VirusTotal simulator"}
        </p>
        <p className="mt-1 text-sm text-slate-500 dark:text-slate-400">Anyone with this page&apos;s address can read the report.</p>
      </div>
      {job.invalidCount > 0 && <InvalidLines lines={job.invalidLines} total={job.invalidCount} />}
      <JobResults id={id} initial={report} initialView={viewOf(filter)} />
    </div>
  );
}
