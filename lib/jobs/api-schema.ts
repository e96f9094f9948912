// Request and response shapes of the JSON API, in zod: the one source of their types (and, later, of OpenAPI).
import { z } from "zod";
import { printable } from "@/lib/hashes/parse";
import { MAX_JOB_NAME_LENGTH, REPORT_PAGE_SIZE } from "./upload-limits";

/** A job id as newJobId makes it (16 random bytes, base64url): anything else names no job, and is never queried. */
export const isJobId = (id: string) => /^[A-Za-z0-9_-]{22}$/.test(id);

/** A job's name as given, made printable: control characters become spaces; bidi overrides and half surrogates U+FFFD. */
export const jobNameSchema = z
  .string({ error: "name must be a string" })
  .transform((name) => printable(name.replace(/[\u0000-\u001f\u007f-\u009f]/g, " ")).trim())
  .pipe(z.string().max(MAX_JOB_NAME_LENGTH, `name must be at most ${MAX_JOB_NAME_LENGTH} characters`))
  .transform((name) => name || null)
  .nullish();

export const createJobJsonSchema = z.object({
  hashes: z.array(z.string({ error: "every element of hashes must be a string" }), {
    error: "hashes must be an array of strings",
  }),
  name: jobNameSchema,
});

const invalidLineSchema = z.object({ line: z.number().int(), value: z.string(), reason: z.string() });

export const createJobResponseSchema = z.object({
  id: z.string(),
  url: z.url(),
  statusUrl: z.url(),
  accepted: z.number().int(),
  duplicates: z.number().int(),
  invalid: z.array(invalidLineSchema),
  invalidCount: z.number().int(),
  /** Needed (as X-Manage-Token) to cancel or retry the job; the report's link alone only reads it. */
  manageToken: z.string(),
});

export const taskStatusSchema = z.enum(["pending", "completed", "not_found", "failed", "cancelled"]);
export const jobStatusSchema = z.enum(["queued", "running", "completed", "cancelled"]);

export const pauseSchema = z.object({
  until: z.iso.datetime(),
  cause: z.enum(["quota", "per_minute", "daily_limit", "monthly_limit", "bad_key"]),
  reason: z.string(),
});

export const jobResultSchema = z.object({
  /** 0-based rank of the hash's first occurrence in the upload. */
  position: z.number().int(),
  hash: z.string(),
  hashType: z.enum(["md5", "sha1", "sha256"]),
  status: taskStatusSchema,
  sha256: z.string().nullable(),
  md5: z.string().nullable(),
  sha1: z.string().nullable(),
  fortinet: z.string().nullable(),
  fortinetCategory: z.string().nullable(),
  detected: z.number().int().nullable(),
  engines: z.number().int().nullable(),
  scanDate: z.iso.datetime().nullable(),
  meaningfulName: z.string().nullable(),
  fileType: z.string().nullable(),
  error: z.string().nullable(),
  retryAt: z.iso.datetime().nullable(),
});

export const jobReportSchema = z.object({
  id: z.string(),
  name: z.string().nullable(),
  createdAt: z.iso.datetime(),
  status: jobStatusSchema,
  source: z.enum(["virustotal", "simulator"]),
  counts: z.object({
    total: z.number().int(),
    pending: z.number().int(),
    completed: z.number().int(),
    notFound: z.number().int(),
    failed: z.number().int(),
    cancelled: z.number().int(),
  }),
  duplicates: z.number().int(),
  invalidCount: z.number().int(),
  pause: pauseSchema.nullable(),
  /** When the last pending lookup should be done, from the job's place in the queue and the allowed rate. */
  estimatedCompletion: z.iso.datetime().nullable(),
  /** True when the queue ahead was too long to count in full: the job ends no earlier than estimatedCompletion. */
  estimateIsLowerBound: z.boolean(),
  results: z.array(jobResultSchema),
  /** The next page of the same filters and sort; null on the last page (and with `since`). */
  nextCursor: z.string().nullable(),
  /** Pass as `since` to get only the rows that changed after this response (it never skips a late commit). */
  changeCursor: z.string(),
  /** With `since`: more changed rows than `limit` are waiting; ask again with the new changeCursor. */
  moreChanges: z.boolean(),
});

export const REPORT_SORTS = ["position", "detections", "scanDate"] as const;

/** Which rows of a job, in which order: shared by the report, its pages and its export. */
export const reportFilterSchema = z.object({
  /** One status or several, comma-separated. */
  status: z
    .string()
    .transform((value) => value.split(",").filter(Boolean))
    .pipe(z.array(taskStatusSchema, { error: `status must be among ${taskStatusSchema.options.join(", ")}` }).max(5))
    .optional(),
  /** `detected`: rows Fortinet detected (it gave a detection name). */
  fortinet: z.enum(["detected"], { error: "fortinet must be detected" }).optional(),
  /** Rows at least this many engines detected. */
  minDetected: z.coerce
    .number({ error: "minDetected must be a number" })
    .int("minDetected must be an integer")
    .min(0, "minDetected must be between 0 and 1000")
    .max(1000, "minDetected must be between 0 and 1000")
    .optional(),
  /** The start of the submitted hash, in hex (any case). */
  hash: z
    .string()
    .regex(/^[0-9a-fA-F]{1,64}$/, "hash must be 1 to 64 hexadecimal characters")
    .transform((value) => value.toLowerCase())
    .optional(),
  sort: z.enum(REPORT_SORTS, { error: `sort must be one of ${REPORT_SORTS.join(", ")}` }).default("position"),
  /** position: asc by default; detections and scanDate: desc by default (most detected, newest first). */
  order: z.enum(["asc", "desc"], { error: "order must be asc or desc" }).optional(),
});

export const reportQuerySchema = reportFilterSchema.extend({
  limit: z.coerce
    .number({ error: "limit must be a number" })
    .int("limit must be an integer")
    .min(1, "limit must be between 1 and 1000")
    .max(1000, "limit must be between 1 and 1000")
    .default(REPORT_PAGE_SIZE),
  cursor: z.string().max(200, "cursor is not one this API returned").optional(),
  since: z.string().max(200, "since is not a changeCursor this API returned").optional(),
});

export const EXPORT_FORMATS = ["csv", "json", "ndjson"] as const;
export const exportQuerySchema = reportFilterSchema.extend({
  format: z.enum(EXPORT_FORMATS, { error: `format must be one of ${EXPORT_FORMATS.join(", ")}` }).default("csv"),
});

export const serviceStatusSchema = z.object({
  source: z.enum(["virustotal", "simulator"]),
  limits: z.object({
    perMinute: z.number().int(),
    perDay: z.number().int(),
    perMonth: z.number().int(),
    windowSeconds: z.number().int(),
  }),
  usage: z.object({
    lastMinute: z.number().int(),
    today: z.number().int(),
    thisMonth: z.number().int(),
    savedToday: z.number().int(),
  }),
  waitingLookups: z.number().int(),
  pause: pauseSchema.nullable(),
  /** Live worker pools: how many lookups each runs at once and how recently it was heard (where they run — host,
   * process — is for operators, in the worker's own logs, not for anyone who can reach the page). */
  workers: z.array(
    z.object({
      id: z.string(),
      concurrency: z.number().int(),
      startedAt: z.iso.datetime(),
      lastBeatAt: z.iso.datetime(),
      heartbeatAgeSeconds: z.number().int(),
    }),
  ),
});

export type ServiceStatus = z.infer<typeof serviceStatusSchema>;
export type Pause = z.infer<typeof pauseSchema>;

/** The API's view of a stored pause. */
export function toPauseJson(pause: { until: Date; cause: Pause["cause"]; reason: string } | null): Pause | null {
  return pause ? { until: pause.until.toISOString(), cause: pause.cause, reason: pause.reason } : null;
}
export type CreateJobJson = z.infer<typeof createJobJsonSchema>;
export type CreateJobResponse = z.infer<typeof createJobResponseSchema>;
export type JobResult = z.infer<typeof jobResultSchema>;
export type JobReport = z.infer<typeof jobReportSchema>;
export type JobStatus = z.infer<typeof jobStatusSchema>;
export type ReportFilter = z.infer<typeof reportFilterSchema>;
export type ReportQuery = z.infer<typeof reportQuerySchema>;
export type ExportQuery = z.infer<typeof exportQuerySchema>;
export type ReportSort = (typeof REPORT_SORTS)[number];
