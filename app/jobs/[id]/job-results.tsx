"use client";
// The live part of the report page: progress, actions, the rows under the chosen filters, page by page. It polls
// every 2 s while lookups are pending (revalidating with the last ETag, so an unchanged job costs no body), stops
// once the job is final or the report cannot be loaded, and pauses in a hidden tab.
import { useQuery } from "@tanstack/react-query";
import { useCallback, useEffect, useState } from "react";
import type { JobReport } from "@/lib/jobs/api-schema";
import { REPORT_PAGE_SIZE as PAGE_SIZE } from "@/lib/jobs/upload-limits";
import { saveManageToken, useManageToken } from "../../manage-tokens";
import { rememberJob } from "../../recent-jobs";
import { CopyLink } from "./copy-link";
import { JobActions } from "./job-actions";
import { Progress } from "./progress";
import { ReportControls } from "./report-controls";
import { fetchReport, viewParams, type View } from "./report-query";
import { ResultsTable } from "./results-table";
import { BUTTON } from "./styles";

const POLL_MS = 2000;

const isFinal = (report: JobReport | undefined) => report?.status === "completed" || report?.status === "cancelled";

export function JobResults({ id, initial, initialView }: { id: string; initial: JobReport; initialView: View }) {
  const [view, setView] = useState(initialView);
  // Cursors of the pages before the current one, so "Previous" can go back; undefined is the first page.
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const params = viewParams(view);
  const isInitial = cursor === undefined && params.toString() === viewParams(initialView).toString();

  const url = (() => {
    const query = new URLSearchParams(params);
    query.set("limit", String(PAGE_SIZE));
    if (cursor) query.set("cursor", cursor);
    return `/api/jobs/${encodeURIComponent(id)}?${query}`;
  })();
  const query = useQuery({
    queryKey: ["job", id, url],
    queryFn: () => fetchReport(url),
    initialData: isInitial ? initial : undefined,
    initialDataUpdatedAt: isInitial ? Date.now() : undefined,
    placeholderData: (previous) => previous,
    refetchInterval: (q) => (q.state.status === "error" || isFinal(q.state.data) ? false : POLL_MS),
  });
  const report = query.data;

  // A link may carry a manage token in its fragment (a script's user handing a job to their browser): it is kept,
  // unless one is kept already, and taken out of the address, so that a copied link only reads the report.
  useEffect(() => {
    rememberJob({ id, name: initial.name, createdAt: initial.createdAt, total: initial.counts.total });
    const given = new URLSearchParams(window.location.hash.slice(1)).get("manage");
    if (given === null) return;
    saveManageToken(id, given);
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
  }, [id, initial.name, initial.createdAt, initial.counts.total]);
  const manageToken = useManageToken(id);

  const changeView = useCallback((next: View) => {
    setView(next);
    setCursors([undefined]);
    const search = viewParams(next).toString();
    window.history.replaceState(null, "", search ? `?${search}` : window.location.pathname);
  }, []);

  const first = (cursors.length - 1) * PAGE_SIZE + 1;
  const shown = report?.results.length ?? 0;
  const of = report ? matchingTotal(report, view) : null;

  return (
    <div className="space-y-5">
      {report && <Progress report={report} />}
      <div className="flex flex-wrap items-center gap-2">
        <CopyLink />
        {report && <JobActions id={id} report={report} manageToken={manageToken} onDone={() => void query.refetch()} />}
      </div>
      {query.isError && (
        <p role="alert" className="rounded bg-red-50 p-3 text-sm text-red-800 dark:bg-red-950 dark:text-red-200">
          {query.error.message} Reload the page to try again.
        </p>
      )}
      <ReportControls jobId={id} view={view} onChange={changeView} />
      {report && (
        <>
          <ResultsTable results={report.results} caption={`Results, rows ${first} to ${first + shown - 1}`} />
          <nav aria-label="Pages" className="flex flex-wrap items-center gap-3 text-sm">
            <button type="button" disabled={cursors.length === 1 || query.isPlaceholderData} onClick={() => setCursors((c) => c.slice(0, -1))} className={BUTTON}>
              ← Previous
            </button>
            <span className="text-slate-600 dark:text-slate-400" aria-live="polite">
              {shown === 0 ? "No rows" : `Rows ${first}–${first + shown - 1}`}
              {of !== null && shown > 0 ? ` of ${of.toLocaleString("en")}` : ""}
            </span>
            <button
              type="button"
              // While the next page loads, the last one is still shown: its cursor is not the next page's.
              disabled={!report.nextCursor || query.isPlaceholderData}
              onClick={() => report.nextCursor && setCursors((c) => [...c, report.nextCursor!])}
              className={BUTTON}
            >
              Next →
            </button>
          </nav>
        </>
      )}
    </div>
  );
}

/** How many rows the view holds, when the counts tell (no filter, or one status alone); else unknown. */
function matchingTotal(report: JobReport, view: View): number | null {
  if (view.fortinet || view.minDetected || view.hash) return null;
  if (!view.status) return report.counts.total;
  const key = view.status === "not_found" ? "notFound" : view.status;
  return report.counts[key];
}
