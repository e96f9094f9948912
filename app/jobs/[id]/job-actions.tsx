"use client";

import { useMutation } from "@tanstack/react-query";
import type { JobReport } from "@/lib/jobs/api-schema";
import { authorization } from "../../api-token";
import { BUTTON, DANGER_BUTTON } from "./styles";

/**
 * Retry the failed lookups; cancel the pending ones (after a confirmation). Only where this browser holds the job's
 * manage token (it created the job): a shared link reads the report, it does not manage it.
 */
export function JobActions({ id, report, manageToken, onDone }: { id: string; report: JobReport; manageToken?: string; onDone: () => void }) {
  const action = useMutation({
    mutationFn: async (name: "cancel" | "retry") => {
      const response = await fetch(`/api/jobs/${encodeURIComponent(id)}/${name}`, {
        method: "POST",
        headers: { "x-manage-token": manageToken ?? "", ...authorization() },
      });
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
  if (!manageToken) {
    return (
      <span className="text-sm text-slate-500 dark:text-slate-400" data-testid="read-only">
        Read-only: only the browser that submitted this job can cancel or retry it.
      </span>
    );
  }
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
