"use client";

import Link from "next/link";
import { plural } from "@/lib/plural";
import { LocalTime } from "./local-time";
import { forgetJob, useRecentJobs } from "./recent-jobs";

/** The home page's list of jobs this browser has opened; nothing at all until there is one. */
export function RecentJobsList() {
  const jobs = useRecentJobs();
  if (jobs.length === 0) return null;
  return (
    <section aria-labelledby="recent-jobs-heading" className="mt-10" data-testid="recent-jobs">
      <h2 id="recent-jobs-heading" className="text-lg font-semibold">
        Recent jobs in this browser
      </h2>
      <p className="mt-1 text-sm text-slate-500 dark:text-slate-400">
        This list is kept in this browser only; a report itself opens for anyone with its link.
      </p>
      <ul className="mt-3 divide-y divide-slate-200 overflow-hidden rounded-lg border border-slate-200 bg-white dark:divide-slate-800 dark:border-slate-800 dark:bg-slate-900">
        {jobs.map((job) => {
          const name = job.name ?? "Untitled";
          return (
            <li key={job.id} className="flex items-center gap-3 px-4 py-3" data-testid="recent-job">
              <div className="min-w-0 flex-1">
                <Link
                  href={`/jobs/${job.id}`}
                  className="block truncate rounded font-medium text-blue-700 hover:underline dark:text-blue-400"
                >
                  {name}
                </Link>
                <p className="flex flex-wrap gap-x-1.5 text-sm text-slate-500 dark:text-slate-400">
                  <span className="whitespace-nowrap">
                    <LocalTime iso={job.createdAt} />
                  </span>
                  <span className="whitespace-nowrap">· {plural(job.total, "hash", "hashes")}</span>
                </p>
              </div>
              <button
                type="button"
                onClick={() => forgetJob(job.id)}
                aria-label={`Remove ${name} from this list`}
                title="Remove from this list"
                className="shrink-0 rounded p-2 text-slate-400 hover:bg-slate-100 hover:text-slate-700 dark:text-slate-500 dark:hover:bg-slate-800 dark:hover:text-slate-200"
              >
                <svg aria-hidden="true" viewBox="0 0 20 20" className="size-4" fill="none" stroke="currentColor" strokeWidth="2">
                  <path d="M5 5l10 10M15 5L5 15" strokeLinecap="round" />
                </svg>
              </button>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
