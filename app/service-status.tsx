"use client";

import { useQuery } from "@tanstack/react-query";
import { LocalTime } from "./local-time";
import { serviceStatusQuery } from "./service-status-query";

const POLL_MS = 5000;

/** The lookup service under every page: a pause (quota, a rejected key) is said here, wherever the user is. */
export function ServiceStatusBar() {
  const { data, isError } = useQuery({ ...serviceStatusQuery, refetchInterval: POLL_MS });
  if (isError) {
    return <Bar tone="red">The lookup service cannot be reached right now.</Bar>;
  }
  if (!data) return null;
  const { usage, limits } = data;
  const n = (x: number) => x.toLocaleString("en");
  return (
    <>
      {data.pause && (
        <Bar tone={data.pause.cause === "bad_key" ? "red" : "amber"}>
          <strong>Lookups paused</strong> until <LocalTime iso={data.pause.until} />: {data.pause.reason}.
        </Bar>
      )}
      <div
        className="border-b border-slate-200 bg-white text-xs text-slate-500 dark:border-slate-800 dark:bg-slate-900 dark:text-slate-400"
        data-testid="service-status"
      >
        <div className="mx-auto flex max-w-6xl flex-wrap gap-x-4 gap-y-1 px-4 py-1.5">
          <span>
            {data.source === "simulator" ? "Simulator" : "VirusTotal"} requests: {n(usage.lastMinute)}/{n(limits.perMinute)} per{" "}
            {limits.windowSeconds === 60 ? "minute" : `${limits.windowSeconds} s`} · {n(usage.today)}/{n(limits.perDay)} today ·{" "}
            {n(usage.thisMonth)}/{n(limits.perMonth)} this month
          </span>
          <span>{n(usage.savedToday)} answered from cache today</span>
          <span>{n(data.waitingLookups)} lookups queued</span>
          <span className={data.workers.length === 0 ? "font-medium text-red-700 dark:text-red-400" : undefined}>
            {data.workers.length === 0 ? "no worker running" : `${data.workers.length} worker${data.workers.length === 1 ? "" : "s"} running`}
          </span>
        </div>
      </div>
    </>
  );
}

function Bar({ tone, children }: { tone: "red" | "amber"; children: React.ReactNode }) {
  const style =
    tone === "red"
      ? "bg-red-100 text-red-900 dark:bg-red-950 dark:text-red-200"
      : "bg-amber-100 text-amber-900 dark:bg-amber-950 dark:text-amber-200";
  return (
    <div role="alert" className={`px-4 py-2 text-center text-sm ${style}`}>
      {children}
    </div>
  );
}
