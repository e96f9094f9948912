"use client";
// Where a job stands: a bar of its tasks by status, the counts, when it should end, and what lookups wait for.
import type { JobReport } from "@/lib/jobs/api-schema";
import { LocalTime } from "../../local-time";

const SEGMENTS = [
  ["completed", "Completed", "bg-emerald-600 dark:bg-emerald-500", "text-emerald-700 dark:text-emerald-400"],
  ["notFound", "Not found", "bg-slate-400 dark:bg-slate-500", "text-slate-600 dark:text-slate-400"],
  ["failed", "Failed", "bg-red-600 dark:bg-red-500", "text-red-700 dark:text-red-400"],
  ["cancelled", "Cancelled", "bg-slate-300 dark:bg-slate-700", "text-slate-500 dark:text-slate-400"],
  ["pending", "Pending", "bg-slate-200 dark:bg-slate-800", "text-slate-700 dark:text-slate-300"],
] as const;

export const STATUS_LABEL: Record<JobReport["status"], string> = {
  queued: "Queued",
  running: "Running",
  completed: "Complete",
  cancelled: "Cancelled",
};

export function Progress({ report }: { report: JobReport }) {
  const { counts } = report;
  const done = counts.total - counts.pending;
  const percent = counts.total ? Math.floor((done / counts.total) * 100) : 100;
  return (
    <section aria-label="Progress" className="space-y-3">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <p className="text-sm">
          <span className="font-semibold" data-testid="job-status">
            {STATUS_LABEL[report.status]}
          </span>
          <span className="text-slate-600 dark:text-slate-400">
            {" "}
            · {done.toLocaleString("en")} of {counts.total.toLocaleString("en")} looked up ({percent}%)
          </span>
        </p>
        {report.estimatedCompletion && (
          <p className="text-sm text-slate-600 dark:text-slate-400" data-testid="eta">
            Expected to finish {report.estimateIsLowerBound ? "no earlier than" : "around"}{" "}
            <LocalTime iso={report.estimatedCompletion} />
          </p>
        )}
      </div>
      <div
        role="progressbar"
        aria-label="Lookups done"
        aria-valuemin={0}
        aria-valuemax={counts.total}
        aria-valuenow={done}
        aria-valuetext={`${done} of ${counts.total} looked up`}
        className="flex h-3 w-full overflow-hidden rounded-full bg-slate-200 dark:bg-slate-800"
      >
        {SEGMENTS.filter(([key]) => key !== "pending").map(([key, , bar]) =>
          counts[key] > 0 ? <div key={key} className={bar} style={{ width: `${(counts[key] / counts.total) * 100}%` }} /> : null,
        )}
      </div>
      <ul className="flex flex-wrap gap-x-5 gap-y-1" data-testid="counts">
        {SEGMENTS.filter(([key]) => key !== "cancelled" || counts.cancelled > 0).map(([key, label, bar, text]) => (
          <li key={key} className={`flex items-center gap-1.5 text-sm ${text}`}>
            <span aria-hidden className={`inline-block h-2.5 w-2.5 rounded-sm ${bar}`} />
            <span>
              <span className="font-semibold tabular-nums">{counts[key].toLocaleString("en")}</span> {label.toLowerCase()}
            </span>
          </li>
        ))}
      </ul>
      {report.pause && (
        <p
          role="status"
          className="rounded border border-amber-200 bg-amber-50 p-3 text-sm text-amber-900 dark:border-amber-900 dark:bg-amber-950 dark:text-amber-200"
          data-testid="pause"
        >
          Lookups are waiting until <LocalTime iso={report.pause.until} />: {report.pause.reason}.
        </p>
      )}
    </section>
  );
}
