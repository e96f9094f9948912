// The worker pools that beat recently, as cards: readable at phone width, a grid on wider screens.
import type { ServiceStatus } from "@/lib/jobs/api-schema";
import { plural } from "@/lib/plural";
import { LocalTime } from "../local-time";

type Pool = ServiceStatus["workers"][number];

/** `now` is when the status was fetched, so the heartbeat's age changes only with new data. */
export function WorkerPools({ pools, now }: { pools: Pool[]; now: number }) {
  if (pools.length === 0) {
    return (
      <p
        className="rounded-lg border border-red-200 bg-red-50 p-4 text-sm text-red-900 dark:border-red-900/60 dark:bg-red-950/40 dark:text-red-200"
        data-testid="no-workers"
      >
        No worker is running: lookups wait in the queue until one starts.
      </p>
    );
  }
  return (
    <ul className="grid gap-3 sm:grid-cols-2 lg:grid-cols-3" data-testid="worker-pools">
      {pools.map((pool, index) => (
        <li
          key={pool.id}
          className="rounded-lg border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-900"
          data-testid="worker-pool"
        >
          <p className="flex items-center gap-2 font-medium">
            <span aria-hidden="true" className="size-2 shrink-0 rounded-full bg-emerald-500" />
            <span className="min-w-0 text-sm">Worker pool {index + 1}</span>
          </p>
          <dl className="mt-3 grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm">
            <dt className="text-slate-500 dark:text-slate-400">Concurrency</dt>
            <dd className="tabular-nums">{plural(pool.concurrency, "lookup")} at a time</dd>
            <dt className="text-slate-500 dark:text-slate-400">Started</dt>
            <dd>
              <LocalTime iso={pool.startedAt} />
            </dd>
            <dt className="text-slate-500 dark:text-slate-400">Last heartbeat</dt>
            <dd>{heartbeatAge(pool.lastBeatAt, now)}</dd>
          </dl>
        </li>
      ))}
    </ul>
  );
}

function heartbeatAge(iso: string, now: number) {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  const age = seconds < 90 ? `${seconds} s ago` : `${Math.round(seconds / 60)} min ago`;
  return (
    <time dateTime={iso} title={iso.slice(0, 19).replace("T", " ") + " UTC"}>
      {age}
    </time>
  );
}
