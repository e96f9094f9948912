"use client";
// Which rows the report shows, and the same rows as a file: filters, sort, and export links.
import { useEffect, useId, useState } from "react";
import { REPORT_SORTS, taskStatusSchema } from "@/lib/jobs/api-schema";
import { isHexPrefix, viewParams, type View } from "./report-query";
import { BUTTON, FIELD } from "./styles";

const STATUS_NAMES: Record<(typeof taskStatusSchema.options)[number], string> = {
  pending: "Pending",
  completed: "Completed",
  not_found: "Not found",
  failed: "Failed",
  cancelled: "Cancelled",
};
const SORT_NAMES: Record<(typeof REPORT_SORTS)[number], string> = {
  position: "Input order",
  detections: "Detections",
  scanDate: "Scan date",
};

export function ReportControls({ jobId, view, onChange }: { jobId: string; view: View; onChange: (view: View) => void }) {
  const id = useId();
  // The hash search is typed freely and applied once it is valid and the typing pauses.
  const [hash, setHash] = useState(view.hash);
  const hashValid = isHexPrefix(hash.trim());
  useEffect(() => {
    const value = hash.trim().toLowerCase();
    if (!isHexPrefix(value) || value === view.hash) return;
    // Clearing the search applies at once; typing waits for a pause.
    const timer = setTimeout(() => onChange({ ...view, hash: value }), value ? 300 : 0);
    return () => clearTimeout(timer);
  }, [hash, view, onChange]);

  const set = (change: Partial<View>) => onChange({ ...view, ...change });
  const descending = view.order ? view.order === "desc" : view.sort !== "position";
  const exportQuery = viewParams({ ...view, order: view.order });

  return (
    <div className="space-y-3 rounded-lg border border-slate-200 bg-white p-3 dark:border-slate-800 dark:bg-slate-900">
      <div role="group" aria-label="Filter and sort" className="grid grid-cols-2 gap-3 sm:flex sm:flex-wrap sm:items-end">
        <label className="flex flex-col gap-1 text-xs font-medium text-slate-600 dark:text-slate-400" htmlFor={`${id}-status`}>
          Status
          <select id={`${id}-status`} className={FIELD} value={view.status} onChange={(e) => set({ status: e.target.value as View["status"] })}>
            <option value="">All</option>
            {taskStatusSchema.options.map((status) => (
              <option key={status} value={status}>
                {STATUS_NAMES[status]}
              </option>
            ))}
          </select>
        </label>
        <label className="flex flex-col gap-1 text-xs font-medium text-slate-600 dark:text-slate-400" htmlFor={`${id}-min`}>
          Engines detected, at least
          <input
            id={`${id}-min`}
            type="number"
            min={0}
            max={1000}
            inputMode="numeric"
            className={`${FIELD} w-full sm:w-28`}
            value={view.minDetected}
            onChange={(e) => set({ minDetected: /^\d{0,4}$/.test(e.target.value) ? e.target.value.replace(/^0+(?=\d)/, "") : view.minDetected })}
          />
        </label>
        <label className="col-span-2 flex flex-col gap-1 text-xs font-medium text-slate-600 dark:text-slate-400" htmlFor={`${id}-hash`}>
          Hash starts with
          <input
            id={`${id}-hash`}
            type="search"
            spellCheck={false}
            autoComplete="off"
            placeholder="e.g. 44d88612"
            aria-invalid={!hashValid}
            aria-describedby={hashValid ? undefined : `${id}-hash-error`}
            className={`${FIELD} w-full font-mono sm:w-56 ${hashValid ? "" : "border-red-500 dark:border-red-500"}`}
            value={hash}
            onChange={(e) => setHash(e.target.value)}
          />
          {!hashValid && (
            <span id={`${id}-hash-error`} className="font-normal text-red-700 dark:text-red-400">
              Hexadecimal digits only (0–9, a–f).
            </span>
          )}
        </label>
        <label className="flex items-center gap-2 self-center text-sm sm:self-end sm:pb-1.5">
          <input type="checkbox" checked={view.fortinet} onChange={(e) => set({ fortinet: e.target.checked })} className="h-4 w-4" />
          Fortinet detected
        </label>
        <label className="flex flex-col gap-1 text-xs font-medium text-slate-600 dark:text-slate-400" htmlFor={`${id}-sort`}>
          Sort by
          <select id={`${id}-sort`} className={FIELD} value={view.sort} onChange={(e) => set({ sort: e.target.value as View["sort"], order: "" })}>
            {REPORT_SORTS.map((sort) => (
              <option key={sort} value={sort}>
                {SORT_NAMES[sort]}
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          className={`${BUTTON} self-end`}
          aria-label={`Order: ${descending ? "descending" : "ascending"}; switch`}
          onClick={() => set({ order: descending ? "asc" : "desc" })}
        >
          {descending ? "↓ Descending" : "↑ Ascending"}
        </button>
      </div>
      <div className="flex flex-wrap items-center gap-2 border-t border-slate-100 pt-3 text-sm dark:border-slate-800">
        <span className="text-slate-600 dark:text-slate-400">Export these rows:</span>
        {(["csv", "json", "ndjson"] as const).map((format) => {
          const params = new URLSearchParams(exportQuery);
          params.set("format", format);
          return (
            <a key={format} className={BUTTON} href={`/api/jobs/${encodeURIComponent(jobId)}/export?${params}`} download>
              {format.toUpperCase()}
            </a>
          );
        })}
      </div>
    </div>
  );
}
