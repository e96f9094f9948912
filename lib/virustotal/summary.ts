// The four facts Hashscan reports about a file, taken from a VirusTotal file report.
import type { FileReport } from "./report-schema";

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
  /** When VirusTotal last analysed the file, not when we asked. */
  scanDate: Date | null;
}

export function summarizeReport(report: FileReport): ReportSummary {
  const { md5, sha1, sha256, last_analysis_date, last_analysis_stats, last_analysis_results } = report.data.attributes;
  const stats = last_analysis_stats ?? {};
  const detected = stats.malicious ?? 0;
  // Counted from the stats, never from the number of engine entries: that was the original tool's bug
  // (it showed 72-75 for every file, engines that timed out or could not handle the type included).
  const engines = detected + (stats.suspicious ?? 0) + (stats.undetected ?? 0) + (stats.harmless ?? 0);
  const results = last_analysis_results ?? {};
  const fortinet = Object.hasOwn(results, "Fortinet") ? results.Fortinet : undefined;
  return {
    sha256,
    md5,
    sha1,
    fortinet: fortinet?.result ?? null,
    fortinetCategory: fortinet?.category ?? null,
    detected,
    engines,
    scanDate: last_analysis_date === undefined ? null : new Date(last_analysis_date * 1000),
  };
}
