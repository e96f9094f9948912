"use client";
// One page of results: a table on wide screens; on a phone each row becomes a card with labelled fields (the same
// markup, restyled), so no hash breaks a character per line and nothing is cut off.
import type { JobResult } from "@/lib/jobs/api-schema";
import { LocalTime } from "../../local-time";

const BADGE: Record<JobResult["status"], [string, string]> = {
  pending: ["Pending", "bg-slate-100 text-slate-700 dark:bg-slate-800 dark:text-slate-300"],
  completed: ["Completed", "bg-emerald-100 text-emerald-800 dark:bg-emerald-950 dark:text-emerald-300"],
  not_found: ["Not found", "bg-slate-200 text-slate-700 dark:bg-slate-800 dark:text-slate-300"],
  failed: ["Failed", "bg-red-100 text-red-800 dark:bg-red-950 dark:text-red-300"],
  cancelled: ["Cancelled", "bg-slate-100 text-slate-500 dark:bg-slate-800 dark:text-slate-400"],
};

// Below md, rows are cards: cells stack, each with its column's name before it.
const CELL =
  "block px-3 py-1 md:table-cell md:py-2 max-md:before:mr-2 max-md:before:text-xs max-md:before:font-medium max-md:before:font-sans max-md:before:text-slate-500 max-md:before:content-[attr(data-label)]";

export function ResultsTable({ results, caption }: { results: JobResult[]; caption: string }) {
  return (
    <div className="rounded-lg border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
      <table className="block w-full text-left text-sm md:table" data-testid="results">
        <caption className="sr-only">{caption}</caption>
        <thead className="sr-only bg-slate-100 text-slate-700 md:not-sr-only md:table-header-group dark:bg-slate-800 dark:text-slate-300">
          <tr>
            <th scope="col" className="px-3 py-2 font-medium">Hash</th>
            <th scope="col" className="px-3 py-2 font-medium">Status</th>
            <th scope="col" className="px-3 py-2 font-medium">Fortinet detection name</th>
            <th scope="col" className="px-3 py-2 font-medium">Engines detected</th>
            <th scope="col" className="px-3 py-2 font-medium">Scan date</th>
          </tr>
        </thead>
        <tbody className="block md:table-row-group">
          {results.map((r) => (
            <tr key={r.position} className="block border-t border-slate-100 py-2 align-top first:border-t-0 md:table-row md:py-0 dark:border-slate-800">
              <td className={`${CELL} font-mono text-xs`} data-label="">
                <HashLink result={r} />
              </td>
              <td className={CELL} data-label="Status">
                <StatusCell result={r} />
              </td>
              <td className={`${CELL} font-mono text-xs`} data-label="Fortinet">
                <FortinetCell result={r} />
              </td>
              <td className={`${CELL} whitespace-nowrap tabular-nums`} data-label="Engines">
                <EnginesCell result={r} />
              </td>
              <td className={`${CELL} whitespace-nowrap`} data-label="Scanned">
                {r.scanDate ? <LocalTime iso={r.scanDate} /> : "—"}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {results.length === 0 && <p className="p-4 text-sm text-slate-500 dark:text-slate-400">No rows match.</p>}
    </div>
  );
}

/** The hash as submitted, linked to its VirusTotal page (VirusTotal finds a file by any of its three hashes). */
function HashLink({ result }: { result: JobResult }) {
  return (
    <a
      href={`https://www.virustotal.com/gui/file/${result.sha256 ?? result.hash}`}
      target="_blank"
      rel="noopener noreferrer"
      title={`Open on VirusTotal (${result.hashType.toUpperCase()})`}
      className="break-all text-blue-700 underline-offset-2 hover:underline dark:text-blue-400"
    >
      {result.hash}
    </a>
  );
}

function StatusCell({ result }: { result: JobResult }) {
  const [label, style] = BADGE[result.status];
  return (
    <div className="inline-block align-top md:block">
      <span className={`inline-block rounded px-2 py-0.5 text-xs font-medium ${style}`}>{label}</span>
      {result.error && (
        // A pending lookup's note says what it waits for; only a failure is red.
        <p className={`mt-1 max-w-xs text-xs ${result.status === "failed" ? "text-red-700 dark:text-red-400" : "text-amber-800 dark:text-amber-300"}`}>
          {result.error}
        </p>
      )}
      {result.retryAt && (
        <p className="mt-1 text-xs text-slate-500 dark:text-slate-400">
          next try <LocalTime iso={result.retryAt} />
        </p>
      )}
    </div>
  );
}

/** Fortinet's detection name; when it detected nothing, its verdict (undetected, type-unsupported…) in grey. */
function FortinetCell({ result }: { result: JobResult }) {
  if (result.status !== "completed") return <span className="text-slate-400">—</span>;
  if (result.fortinet) return <span className="break-all text-red-800 dark:text-red-300">{result.fortinet}</span>;
  return <span className="text-slate-500 dark:text-slate-400">{result.fortinetCategory ?? "no Fortinet entry"}</span>;
}

/** "53 / 62" and a small bar of the share, red as it grows. */
function EnginesCell({ result }: { result: JobResult }) {
  if (result.detected === null || result.engines === null) return <span className="text-slate-400">—</span>;
  const share = result.engines > 0 ? result.detected / result.engines : 0;
  return (
    <span className="inline-flex items-center gap-2">
      <span>
        {result.detected} / {result.engines}
      </span>
      <span aria-hidden className="inline-block h-1.5 w-14 overflow-hidden rounded-full bg-slate-200 dark:bg-slate-700">
        <span
          className={`block h-full ${result.detected === 0 ? "" : share >= 0.3 ? "bg-red-600" : "bg-amber-500"}`}
          style={{ width: `${Math.max(share * 100, result.detected > 0 ? 4 : 0)}%` }}
        />
      </span>
    </span>
  );
}
