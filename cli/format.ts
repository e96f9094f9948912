// What the client prints for people: the report as an aligned table, a submission, the lookup service. Pure.
// Text from VirusTotal (detection names, errors) is chosen by whoever made the file: it reaches a terminal only
// through `cell`, so an escape sequence in it is shown as U+FFFD instead of being run by the terminal.
import { formatUtc } from "@/app/local-time-format";
import { printable } from "@/lib/hashes/parse";
import type { CreateJobResponse, JobReport, JobResult, ServiceStatus } from "@/lib/jobs/api-schema";
import { plural } from "@/lib/plural";

/** One line of a table cell: control characters (escape, newlines) and bidi overrides as U+FFFD, tabs as spaces. */
export const cell = (text: string) => printable(text).replace(/\t/g, " ");

/** Control characters but tab, CR and LF, for a CSV shown on a terminal (its line breaks are its own). */
export const terminalSafe = (text: string) => text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g, "\ufffd");

const utc = (iso: string) => formatUtc(new Date(iso));

/**
 * An answer as indented JSON for stdout. JSON.stringify escapes C0 controls only: C1 controls (U+009B is a CSI to some
 * terminals), line separators and bidi overrides are escaped here too, the same value to any JSON reader.
 */
export function jsonText(value: unknown): string {
  const escape = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
  return `${JSON.stringify(value, null, 2).replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, escape)}\n`;
}

const RESULT_COLUMNS: { header: string; value: (result: JobResult) => string; right?: boolean }[] = [
  { header: "HASH", value: (r) => r.hash },
  { header: "STATUS", value: (r) => r.status },
  // Where Fortinet detected nothing, its verdict (undetected, type-unsupported), as on the report page.
  { header: "FORTINET", value: (r) => r.fortinet ?? r.fortinetCategory ?? "" },
  { header: "DETECTED", value: (r) => (r.detected === null ? "" : `${r.detected} / ${r.engines ?? "?"}`), right: true },
  { header: "SCAN DATE", value: (r) => (r.scanDate ? utc(r.scanDate) : "") },
  { header: "NOTE", value: note },
];

/** A failure's reason; for a pending row, when it is tried next and what went wrong last time. */
function note(result: JobResult): string {
  if (!result.retryAt) return result.error ?? "";
  return `next try ${utc(result.retryAt)}${result.error ? ` after: ${result.error}` : ""}`;
}

/** The rows as an aligned table, a header first; NOTE (a failure's reason, a pending row's next try) only when some row has one. */
export function resultsTable(results: JobResult[]): string {
  const rows = results.map((result) => RESULT_COLUMNS.map((column) => cell(column.value(result))));
  const columns = rows.some((row) => row[RESULT_COLUMNS.length - 1] !== "") ? RESULT_COLUMNS : RESULT_COLUMNS.slice(0, -1);
  return alignedLines([columns.map((column) => column.header), ...rows.map((row) => row.slice(0, columns.length))], columns.map((c) => c.right ?? false));
}

function alignedLines(rows: string[][], right: boolean[]): string {
  const widths = right.map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const line = (row: string[]) =>
    row
      .map((value, i) => (right[i] ? value.padStart(widths[i]) : i === row.length - 1 ? value : value.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return rows.map((row) => `${line(row)}\n`).join("");
}

/** "Complete", as the report page says it. */
const JOB_STATUS: Record<JobReport["status"], string> = { queued: "Queued", running: "Running", completed: "Complete", cancelled: "Cancelled" };

/** "40 s", "3 min", "2 h 5 min", "1 d 3 h". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.round(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 24) return `${h} h${min % 60 ? ` ${min % 60} min` : ""}`;
  return `${Math.floor(h / 24)} d${h % 24 ? ` ${h % 24} h` : ""}`;
}

export const fromNow = (ms: number) => `in ${duration(ms)}`;

/** Where a job stands, in one line: status, counts, when it should end, and any pause and until when. */
export function progressLine(report: JobReport, now: number): string {
  const { counts } = report;
  const done = counts.total - counts.pending;
  const percent = Math.floor((done / Math.max(counts.total, 1)) * 100);
  const parts = [`${JOB_STATUS[report.status]}: ${done.toLocaleString("en")} of ${counts.total.toLocaleString("en")} looked up (${percent}%)`];
  const byStatus = [
    [counts.completed, "completed"],
    [counts.notFound, "not found"],
    [counts.failed, "failed"],
    [counts.cancelled, "cancelled"],
    [counts.pending, "pending"],
  ] as const;
  parts.push(byStatus.filter(([n]) => n > 0).map(([n, label]) => `${n.toLocaleString("en")} ${label}`).join(", "));
  if (counts.pending > 0 && report.estimatedCompletion) {
    const at = Date.parse(report.estimatedCompletion);
    parts.push(`ends ${report.estimateIsLowerBound ? "no earlier than" : "around"} ${utc(report.estimatedCompletion)} (${at > now ? fromNow(at - now) : "any moment"})`);
  }
  if (counts.pending > 0 && report.pause) {
    const until = Date.parse(report.pause.until);
    parts.push(`paused until ${utc(report.pause.until)} (${fromNow(until - now)}): ${cell(report.pause.reason)}`);
  }
  return parts.join(" · ");
}

/** A submission, for a person: the job, its report, its manage token, and what the server took. */
export function submissionText(job: CreateJobResponse): string {
  return alignedLines(
    [
      ["Job", job.id],
      ["Report", job.url],
      ["Manage token", `${job.manageToken}  (X-Manage-Token: needed to cancel or retry)`],
      ["Accepted", acceptedText(job)],
    ],
    [false, false],
  );
}

/** A submission as one CSV row under its header (ids, URLs and tokens need no quoting). */
export function submissionCsv(job: CreateJobResponse): string {
  return [
    "id,url,status_url,accepted,duplicates,invalid_count,manage_token",
    [job.id, job.url, job.statusUrl, job.accepted, job.duplicates, job.invalidCount, job.manageToken].join(","),
  ].map((line) => `${line}\r\n`).join("");
}

export function acceptedText(job: Pick<CreateJobResponse, "accepted" | "duplicates" | "invalidCount">): string {
  return [plural(job.accepted, "hash", "hashes"), plural(job.duplicates, "repeat") + " dropped", plural(job.invalidCount, "line") + " without a hash"].join(", ");
}

/** The lookup service, as the strip under every page and /queue show it. */
export function serviceStatusText(status: ServiceStatus, now: number): string {
  const n = (x: number) => x.toLocaleString("en");
  const { usage, limits } = status;
  const per = limits.windowSeconds === 60 ? "minute" : `${limits.windowSeconds} s`;
  return alignedLines(
    [
      ["Source", status.source === "simulator" ? "simulator (no VirusTotal key set: results are simulated)" : "VirusTotal"],
      ["Requests", `${n(usage.lastMinute)} / ${n(limits.perMinute)} per ${per} · ${n(usage.today)} / ${n(limits.perDay)} today · ${n(usage.thisMonth)} / ${n(limits.perMonth)} this month`],
      ["From cache", `${n(usage.savedToday)} lookups answered from the cache today`],
      ["Queued", plural(status.waitingLookups, "lookup") + " waiting"],
      ["Pause", status.pause ? `until ${utc(status.pause.until)} (${fromNow(Date.parse(status.pause.until) - now)}): ${cell(status.pause.reason)}` : "none"],
      [
        "Workers",
        status.workers.length === 0
          ? "none running: nothing is looked up"
          : status.workers.map((w) => `${cell(w.id)} (${w.concurrency} at once, heard ${w.heartbeatAgeSeconds} s ago)`).join("; "),
      ],
    ],
    [false, false],
  );
}
