// The report page's view of a job: which rows (filters, sort) as URL parameters, shared by the page's address, the
// API request and the export links; and the fetch that revalidates with the last ETag (a 304 costs no body).
import type { JobReport, ReportFilter } from "@/lib/jobs/api-schema";

export interface View {
  status: "" | NonNullable<ReportFilter["status"]>[number];
  fortinet: boolean;
  minDetected: string;
  hash: string;
  sort: ReportFilter["sort"];
  order: "" | "asc" | "desc";
}

export const DEFAULT_VIEW: View = { status: "", fortinet: false, minDetected: "", hash: "", sort: "position", order: "" };

/** The view as URL parameters: only what differs from the default, so a plain report keeps a plain address. */
export function viewParams(view: View): URLSearchParams {
  const params = new URLSearchParams();
  if (view.status) params.set("status", view.status);
  if (view.fortinet) params.set("fortinet", "detected");
  if (view.minDetected) params.set("minDetected", view.minDetected);
  if (view.hash) params.set("hash", view.hash);
  if (view.sort !== "position") params.set("sort", view.sort);
  if (view.order) params.set("order", view.order);
  return params;
}

/** The server's parsed filter (from the page's address) as the page's view. */
export function viewOf(filter: Partial<ReportFilter>): View {
  return {
    status: filter.status?.length === 1 ? filter.status[0] : "",
    fortinet: filter.fortinet === "detected",
    minDetected: filter.minDetected ? String(filter.minDetected) : "",
    hash: filter.hash ?? "",
    sort: filter.sort ?? "position",
    order: filter.order ?? "",
  };
}

export const isHexPrefix = (text: string) => /^[0-9a-fA-F]{0,64}$/.test(text);

// The last body and ETag per URL (a few, the pages a viewer moves between), to answer a 304 with.
const lastSeen = new Map<string, { etag: string; report: JobReport }>();
const REMEMBERED = 20;

export async function fetchReport(url: string): Promise<JobReport> {
  const seen = lastSeen.get(url);
  // no-store: the browser's own cache stays out of it; the revalidation is ours, with the ETag we kept.
  const response = await fetch(url, { cache: "no-store", headers: seen ? { "if-none-match": seen.etag } : {} });
  if (response.status === 304 && seen) return seen.report;
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    throw new Error(body?.error?.message ?? `The report could not be loaded (HTTP ${response.status}).`);
  }
  const report: JobReport = await response.json();
  const etag = response.headers.get("etag");
  lastSeen.delete(url);
  if (etag) lastSeen.set(url, { etag, report });
  if (lastSeen.size > REMEMBERED) lastSeen.delete(lastSeen.keys().next().value!);
  return report;
}
