// The facts Hashscan reports about a file, taken from a VirusTotal file report; each fits its column as it is.
import type { FileReport } from "./report-schema";
import { sanitizeText } from "./sanitize";

export interface ReportSummary {
  sha256: string;
  md5: string;
  sha1: string;
  /** Fortinet's detection name; null when Fortinet did not detect the file or did not scan it. */
  fortinet: string | null;
  /** Fortinet's verdict ("malicious", "undetected", "type-unsupported"…); null when Fortinet gave no entry. */
  fortinetCategory: string | null;
  /** Engines that called the file malicious. */
  detected: number;
  /** Engines with a verdict (malicious + suspicious + undetected + harmless), the denominator VirusTotal shows. */
  engines: number;
  /** When VirusTotal last analysed the file, not when we asked; null when absent or not plausible. */
  scanDate: Date | null;
  /** The most telling of the names the file was submitted under, e.g. "source.exe". */
  meaningfulName: string | null;
  /** VirusTotal's file type, e.g. "Win32 EXE", "MS Word Document". */
  fileType: string | null;
}

/** Free text longer than this is cut (the raw report keeps all of it). */
export const MAX_SUMMARY_TEXT_LENGTH = 1000;

// A scan date outside these bounds is VirusTotal's mistake (or ours reading it), not a date to show or store:
// nothing was analysed before 1990 (VirusTotal began in 2004), and a day ahead allows for any clock skew.
const EARLIEST_SCAN_MS = Date.UTC(1990, 0, 1);
const SCAN_DATE_LEEWAY_MS = 24 * 60 * 60 * 1000;

/** `now` is the time of the call: it bounds the scan date. */
export function summarizeReport(report: FileReport, now: Date = new Date()): ReportSummary {
  const attributes = report.data.attributes;
  const { md5, sha1, sha256, last_analysis_date, last_analysis_stats, last_analysis_results } = attributes;
  const stats = last_analysis_stats ?? {};
  const detected = toInt4(stats.malicious ?? 0);
  // Counted from the stats, never from the number of engine entries: that was the original tool's bug
  // (it showed 72-75 for every file, engines that timed out or could not handle the type included).
  const engines = toInt4((stats.malicious ?? 0) + (stats.suspicious ?? 0) + (stats.undetected ?? 0) + (stats.harmless ?? 0));
  const results = last_analysis_results ?? {};
  const fortinet = Object.hasOwn(results, "Fortinet") ? results.Fortinet : undefined;
  return {
    // The three hashes are hexadecimal (the schema checks), so they need no cleaning.
    sha256,
    md5,
    sha1,
    fortinet: summaryText(fortinet?.result),
    fortinetCategory: summaryText(fortinet?.category),
    detected,
    engines,
    scanDate: plausibleScanDate(last_analysis_date, now),
    meaningfulName: summaryText(attributes.meaningful_name),
    fileType: summaryText(attributes.type_description),
  };
}

/** Unix seconds as a Date, or null outside [1990-01-01, now + 1 day]; within them, always a valid timestamptz. */
function plausibleScanDate(seconds: number | undefined, now: Date): Date | null {
  if (seconds === undefined) return null;
  const ms = seconds * 1000;
  // Written so that NaN (an invalid `now`, a non-finite date) fails too.
  if (!(ms >= EARLIEST_SCAN_MS && ms <= now.getTime() + SCAN_DATE_LEEWAY_MS)) return null;
  return new Date(ms);
}

/** Storable in a text column (no NUL, no lone surrogate) and cut to a sane length, never inside a pair. */
function summaryText(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const text = sanitizeText(value);
  if (text.length <= MAX_SUMMARY_TEXT_LENGTH) return text;
  const cut = MAX_SUMMARY_TEXT_LENGTH;
  const splitsPair = /[\uD800-\uDBFF]/.test(text[cut - 1]);
  return text.slice(0, splitsPair ? cut - 1 : cut);
}

/** Counts are stored as integer columns: an absurd one (real reports hold about 75) is capped, not refused. */
const INT4_MAX = 2 ** 31 - 1;
function toInt4(n: number): number {
  return Math.min(n, INT4_MAX);
}
