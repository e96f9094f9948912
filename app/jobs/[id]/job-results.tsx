"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import type { JobReport, JobResult } from "@/lib/jobs/api-schema";
import { REPORT_PAGE_SIZE as PAGE_SIZE } from "@/lib/jobs/upload-limits";

const POLL_MS = 2000;

async function fetchReport(id: string, cursor: string | undefined): Promise<JobReport> {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (cursor) params.set("cursor", cursor);
  const response = await fetch(`/api/jobs/${encodeURIComponent(id)}?${params}`, { cache: "no-store" });
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    throw new Error(body?.error?.message ?? `The report could not be loaded (HTTP ${response.status}).`);
  }
  return response.json();
}

const isFinal = (report: JobReport | undefined) => report?.status === "completed" || report?.status === "cancelled";

export function JobResults({ id, initial }: { id: string; initial: JobReport }) {
  // Cursors of the pages before the current one, so "Previous" can go back; undefined is the first page.
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const query = useQuery({
    queryKey: ["job", id, cursor ?? null],
    queryFn: () => fetchReport(id, cursor),
    initialData: cursor === undefined ? initial : undefined,
    initialDataUpdatedAt: cursor === undefined ? Date.now() : undefined,
    // Polling stops by itself once nothing is pending, or when the report cannot be loaded.
    refetchInterval: (q) => (q.state.status === "error" || isFinal(q.state.data) ? false : POLL_MS),
  });
  const report = query.data;

  return (
    <section className="space-y-4">
      {report && <Summary report={report} />}
      {report && <JobActions id={id} report={report} onDone={() => void query.refetch()} />}
      {query.isError && (
        <p role="alert" className="rounded bg-red-50 p-3 text-sm text-red-800">
          {query.error.message} Reload the page to try again.
        </p>
      )}
      {report && (
        <>
          <ResultsTable results={report.results} />
          <nav className="flex items-center gap-3 text-sm">
            <button
              type="button"
              disabled={cursors.length === 1}
              onClick={() => setCursors((c) => c.slice(0, -1))}
              className="rounded border border-slate-300 px-3 py-1 disabled:opacity-40"
            >
              ← Previous
            </button>
            <span className="text-slate-500">
              Rows {(cursors.length - 1) * PAGE_SIZE + 1}–{(cursors.length - 1) * PAGE_SIZE + report.results.length} of{" "}
              {report.counts.total.toLocaleString("en")}
            </span>
            <button
              type="button"
              disabled={!report.nextCursor}
              onClick={() => report.nextCursor && setCursors((c) => [...c, report.nextCursor!])}
              className="rounded border border-slate-300 px-3 py-1 disabled:opacity-40"
            >
              Next →
            </button>
          </nav>
        </>
      )}
    </section>
  );
}

function JobActions({ id, report, onDone }: { id: string; report: JobReport; onDone: () => void }) {
  const action = useMutation({
    mutationFn: async (name: "cancel" | "retry") => {
      const response = await fetch(`/api/jobs/${encodeURIComponent(id)}/${name}`, { method: "POST" });
      const body = await response.json().catch(() => null);
      if (!response.ok) throw new Error(body?.error?.message ?? `The server answered HTTP ${response.status}.`);
    },
    // Whatever happened, the report shows what is true now.
    onSettled: onDone,
  });
  const busy = action.isPending;
  const post = (name: "cancel" | "retry") => action.mutate(name);
  const message = action.error ? action.error.message : null;
  const canCancel = report.counts.pending > 0;
  const canRetry = report.counts.failed > 0 && report.status !== "cancelled";
  if (!canCancel && !canRetry) return null;
  return (
    <div className="flex items-center gap-3 text-sm">
      {canRetry && (
        <button type="button" disabled={busy} onClick={() => post("retry")} className="rounded border border-slate-300 bg-white px-3 py-1 hover:bg-slate-50">
          Retry {report.counts.failed.toLocaleString("en")} failed
        </button>
      )}
      {canCancel && (
        <button
          type="button"
          disabled={busy}
          onClick={() => window.confirm("Cancel the lookups still pending for this job?") && post("cancel")}
          className="rounded border border-red-200 bg-white px-3 py-1 text-red-700 hover:bg-red-50"
        >
          Cancel pending lookups
        </button>
      )}
      {message && <span role="alert" className="text-red-700">{message}</span>}
    </div>
  );
}

function Summary({ report }: { report: JobReport }) {
  const { counts } = report;
  const items: [string, number, string][] = [
    ["Pending", counts.pending, "text-slate-700"],
    ["Completed", counts.completed, "text-emerald-700"],
    ["Not found", counts.notFound, "text-slate-500"],
    ["Failed", counts.failed, "text-red-700"],
    ...(counts.cancelled > 0 ? [["Cancelled", counts.cancelled, "text-slate-500"] as [string, number, string]] : []),
  ];
  return (
    <div className="space-y-2">
      <div className="flex flex-wrap items-baseline gap-x-6 gap-y-2" data-testid="counts">
        <span className="text-sm font-medium" data-testid="job-status">
          {STATUS_LABEL[report.status]}
        </span>
        {items.map(([label, n, color]) => (
          <span key={label} className={`text-sm ${color}`}>
            <span className="text-lg font-semibold tabular-nums">{n.toLocaleString("en")}</span> {label.toLowerCase()}
          </span>
        ))}
      </div>
      {report.estimatedCompletion && (
        <p className="text-sm text-slate-600" data-testid="eta">
          Expected to finish around {formatDate(report.estimatedCompletion)}, from this job&apos;s place in the queue
          and the allowed request rate.
        </p>
      )}
      {report.pause && (
        <p role="status" className="rounded bg-amber-50 p-3 text-sm text-amber-900" data-testid="pause">
          Lookups are paused until {formatDate(report.pause.until)}: {report.pause.reason}.
        </p>
      )}
    </div>
  );
}

function ResultsTable({ results }: { results: JobResult[] }) {
  return (
    <div className="overflow-x-auto rounded-lg border border-slate-200 bg-white">
      <table className="w-full text-left text-sm" data-testid="results">
        <thead className="bg-slate-100 text-slate-700">
          <tr>
            <th className="px-3 py-2 font-medium">Hash</th>
            <th className="px-3 py-2 font-medium">Status</th>
            <th className="px-3 py-2 font-medium">Fortinet detection name</th>
            <th className="px-3 py-2 font-medium">Engines detected</th>
            <th className="px-3 py-2 font-medium">Scan date</th>
          </tr>
        </thead>
        <tbody>
          {results.map((r) => (
            <tr key={r.hash} className="border-t border-slate-100 align-top">
              <td className="px-3 py-2 font-mono text-xs break-all">{r.hash}</td>
              <td className="px-3 py-2">
                <StatusBadge result={r} />
              </td>
              <td className="px-3 py-2 font-mono text-xs">
                <FortinetCell result={r} />
              </td>
              <td className="px-3 py-2 tabular-nums">
                {r.detected !== null && r.engines !== null ? `${r.detected} / ${r.engines}` : "—"}
              </td>
              <td className="px-3 py-2 whitespace-nowrap">{r.scanDate ? formatDate(r.scanDate) : "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const STATUS_LABEL: Record<JobReport["status"], string> = {
  queued: "Queued",
  running: "Running",
  completed: "Complete",
  cancelled: "Cancelled",
};

const BADGE: Record<JobResult["status"], [string, string]> = {
  pending: ["Pending", "bg-slate-100 text-slate-700"],
  completed: ["Completed", "bg-emerald-100 text-emerald-800"],
  not_found: ["Not found", "bg-slate-200 text-slate-600"],
  failed: ["Failed", "bg-red-100 text-red-800"],
  cancelled: ["Cancelled", "bg-slate-100 text-slate-500"],
};

function StatusBadge({ result }: { result: JobResult }) {
  const [label, style] = BADGE[result.status];
  return (
    <div>
      <span className={`inline-block rounded px-2 py-0.5 text-xs font-medium ${style}`}>{label}</span>
      {result.error && <p className="mt-1 max-w-xs text-xs text-red-700">{result.error}</p>}
      {result.retryAt && <p className="mt-1 text-xs text-slate-500">next try {formatDate(result.retryAt)}</p>}
    </div>
  );
}

/** Fortinet's detection name; when it detected nothing, its verdict (undetected, type-unsupported…) in grey. */
function FortinetCell({ result }: { result: JobResult }) {
  if (result.status !== "completed") return null;
  if (result.fortinet) return <span className="text-red-800">{result.fortinet}</span>;
  return <span className="text-slate-400">{result.fortinetCategory ?? "no Fortinet entry"}</span>;
}

/** UTC, the same on server and browser (no locale, no hydration mismatch). */
function formatDate(iso: string): string {
  return `${iso.slice(0, 16).replace("T", " ")} UTC`;
}
