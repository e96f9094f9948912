import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { getDb } from "@/lib/db/client";
import { findJob } from "@/lib/db/queries/jobs";
import { REPORT_PAGE_SIZE } from "@/lib/jobs/upload-limits";
import { buildJobReport } from "@/lib/jobs/report";
import { plural } from "@/lib/plural";
import { InvalidLines } from "./invalid-lines";
import { JobResults } from "./job-results";

export const metadata: Metadata = { title: "Hashscan report" };

export default async function JobPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const db = getDb();
  const job = await findJob(db, id);
  if (!job) notFound();
  const { report } = await buildJobReport(db, job, { limit: REPORT_PAGE_SIZE });

  return (
    <div className="space-y-6">
      <div>
        <h1 className="text-2xl font-semibold">{job.name ?? "Hash report"}</h1>
        <p className="mt-1 text-sm text-slate-500">
          Submitted {job.createdAt.toISOString().slice(0, 16).replace("T", " ")} UTC · {plural(job.total, "distinct hash", "distinct hashes")} ·{" "}
          {plural(job.duplicates, "duplicate")} dropped · {plural(job.invalidCount, "line")} without a hash · share this
          page&apos;s address to share the report
        </p>
      </div>
      {job.invalidCount > 0 && <InvalidLines lines={job.invalidLines} total={job.invalidCount} />}
      <JobResults id={id} initial={report} />
    </div>
  );
}
