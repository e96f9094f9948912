"use client";

import { useMutation } from "@tanstack/react-query";
import type { JobReport } from "@/lib/jobs/api-schema";
import { BUTTON, DANGER_BUTTON } from "./styles";

/** Retry the failed lookups; cancel the pending ones (after a confirmation). */
export function JobActions({ id, report, onDone }: { id: string; report: JobReport; onDone: () => void }) {
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
  const canCancel = report.counts.pending > 0;
  const canRetry = report.counts.failed > 0 && report.status !== "cancelled";
  if (!canCancel && !canRetry && !action.error) return null;
  return (
    <>
      {canRetry && (
        <button type="button" disabled={busy} onClick={() => action.mutate("retry")} className={BUTTON}>
          Retry {report.counts.failed.toLocaleString("en")} failed
        </button>
      )}
      {canCancel && (
        <button
          type="button"
          disabled={busy}
          onClick={() => window.confirm("Cancel the lookups still pending for this job?") && action.mutate("cancel")}
          className={DANGER_BUTTON}
        >
          Cancel pending lookups
        </button>
      )}
      {action.error && (
        <span role="alert" className="text-sm text-red-700 dark:text-red-400">
          {action.error.message}
        </span>
      )}
    </>
  );
}
