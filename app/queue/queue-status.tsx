"use client";
// The queue page, the role Celery Flower played: the request budget, the queue and the worker pools, live.

import { useQuery } from "@tanstack/react-query";
import type { ReactNode } from "react";
import type { Pause, ServiceStatus } from "@/lib/jobs/api-schema";
import { plural } from "@/lib/plural";
import { LocalTime } from "../local-time";
import { serviceStatusQuery } from "../service-status-query";
import { UsageMeter } from "./usage-meter";
import { WorkerPools } from "./worker-pools";

const POLL_MS = 2000;

const CAUSES: Record<Pause["cause"], string> = {
  quota: "VirusTotal answered that the quota is used up",
  per_minute: "the per-minute limit",
  daily_limit: "the daily limit",
  monthly_limit: "the monthly limit",
  bad_key: "VirusTotal rejected the API key",
};

const card = "rounded-lg border border-slate-200 bg-white p-4 sm:p-5 dark:border-slate-800 dark:bg-slate-900";

export function QueueStatus() {
  // Polls only while the tab is visible (React Query's default), and stops on an error until asked again.
  const { data, error, dataUpdatedAt, isFetching, refetch } = useQuery({
    ...serviceStatusQuery,
    refetchInterval: (query) => (query.state.status === "error" ? false : POLL_MS),
  });

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-end justify-between gap-x-6 gap-y-2">
        <div>
          <h1 className="text-2xl font-semibold">Queue</h1>
          <p className="mt-1 text-sm text-slate-600 dark:text-slate-300">
            The lookup service, live: refreshed every {POLL_MS / 1000} seconds while this tab is open.
          </p>
        </div>
        {dataUpdatedAt > 0 && <Updated at={dataUpdatedAt} fetching={isFetching} />}
      </div>

      {error && (
        <div
          role="alert"
          className="flex flex-wrap items-center gap-3 rounded-lg border border-red-200 bg-red-50 p-4 text-sm text-red-900 dark:border-red-900/60 dark:bg-red-950/40 dark:text-red-200"
        >
          <span>The service status could not be read ({error.message}); live updates have stopped.</span>
          <button
            type="button"
            onClick={() => void refetch()}
            className="rounded bg-red-700 px-3 py-1 font-medium text-white hover:bg-red-800 dark:bg-red-600 dark:hover:bg-red-500"
          >
            Try again
          </button>
        </div>
      )}

      {data ? <Status data={data} now={dataUpdatedAt} /> : !error && <p className="text-slate-500">Loading the service status…</p>}
    </div>
  );
}

function Status({ data, now }: { data: ServiceStatus; now: number }) {
  const { usage, limits } = data;
  const target = data.source === "simulator" ? "the simulator" : "VirusTotal";
  return (
    <>
      <Source source={data.source} />
      <PauseState pause={data.pause} />

      <section aria-labelledby="budget-heading" className={card}>
        <h2 id="budget-heading" className="font-semibold">
          Requests to {target}
        </h2>
        <div className="mt-4 grid gap-4 sm:grid-cols-3">
          <UsageMeter
            label={limits.windowSeconds === 60 ? "Last minute" : `Last ${limits.windowSeconds} s`}
            used={usage.lastMinute}
            limit={limits.perMinute}
            testId="limit-minute"
          />
          <UsageMeter label="Today (UTC)" used={usage.today} limit={limits.perDay} testId="limit-day" />
          <UsageMeter label="This month (UTC)" used={usage.thisMonth} limit={limits.perMonth} testId="limit-month" />
        </div>
      </section>

      <div className="grid grid-cols-2 gap-3 sm:gap-4">
        <Figure label="Lookups waiting" value={data.waitingLookups} testId="waiting-lookups" />
        <Figure label="Answered from cache today" value={usage.savedToday} testId="saved-today" />
      </div>

      <section aria-labelledby="workers-heading" className="space-y-3">
        <h2 id="workers-heading" className="font-semibold">
          Worker pools{" "}
          <span className="font-normal text-slate-500 dark:text-slate-400">
            <span data-testid="worker-count">{data.workers.length}</span> running ·{" "}
            {plural(data.workers.reduce((sum, pool) => sum + pool.concurrency, 0), "lookup")} at a time
          </span>
        </h2>
        <WorkerPools pools={data.workers} now={now} />
      </section>
    </>
  );
}

function Source({ source }: { source: ServiceStatus["source"] }) {
  const simulated = source === "simulator";
  return (
    <p className={`${card} flex flex-wrap items-center gap-x-3 gap-y-2 text-sm`} data-testid="queue-source">
      <span className="font-medium">Source:</span>{" "}
      <span
        className={`rounded-full px-2.5 py-0.5 text-xs font-semibold ${
          simulated
            ? "bg-amber-100 text-amber-900 dark:bg-amber-400/15 dark:text-amber-300"
            : "bg-emerald-100 text-emerald-900 dark:bg-emerald-400/15 dark:text-emerald-300"
        }`}
      >
        {simulated ? "Simulator" : "VirusTotal"}
      </span>{" "}
      <span className="basis-full text-slate-600 sm:basis-auto dark:text-slate-300">
        {simulated
          ? "No VirusTotal API key is set: lookups are answered by the bundled simulator, and these limits are its own."
          : "Lookups go to the VirusTotal API, within the key's limits below."}
      </span>
    </p>
  );
}

function PauseState({ pause }: { pause: Pause | null }) {
  if (!pause) {
    return (
      <p className="flex items-center gap-2 text-sm text-emerald-800 dark:text-emerald-300" data-testid="queue-pause">
        <span aria-hidden="true" className="size-2 rounded-full bg-emerald-500" />
        Lookups are not paused.
      </p>
    );
  }
  const tone =
    pause.cause === "bad_key"
      ? "border-red-200 bg-red-50 text-red-900 dark:border-red-900/60 dark:bg-red-950/40 dark:text-red-200"
      : "border-amber-200 bg-amber-50 text-amber-900 dark:border-amber-900/60 dark:bg-amber-950/40 dark:text-amber-200";
  return (
    <div className={`rounded-lg border p-4 text-sm ${tone}`} data-testid="queue-pause">
      <p>
        <strong>Lookups paused</strong> until <LocalTime iso={pause.until} />: {pause.reason}.
      </p>
      <p className="mt-1 text-xs opacity-80">Cause: {CAUSES[pause.cause]}.</p>
    </div>
  );
}

function Figure({ label, value, testId }: { label: string; value: number; testId: string }) {
  return (
    <div className={`${card} flex flex-col justify-between`} data-testid={testId}>
      <p className="text-sm text-slate-500 dark:text-slate-400">{label}</p>
      <p className="mt-1 text-2xl font-semibold tabular-nums" data-testid="value">
        {value.toLocaleString("en")}
      </p>
    </div>
  );
}

function Updated({ at, fetching }: { at: number; fetching: boolean }): ReactNode {
  const time = new Date(at);
  const pad = (x: number) => String(x).padStart(2, "0");
  return (
    <p className="flex items-center gap-2 text-xs text-slate-500 dark:text-slate-400" data-testid="queue-updated">
      <span
        aria-hidden="true"
        className={`size-2 rounded-full bg-emerald-500 ${fetching ? "animate-pulse" : ""}`}
      />
      <span>
        Updated{" "}
        <time dateTime={time.toISOString()}>{`${pad(time.getHours())}:${pad(time.getMinutes())}:${pad(time.getSeconds())}`}</time>
      </span>
    </p>
  );
}
