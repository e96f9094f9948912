// Request and response shapes of the JSON API, in zod: the one source of their types and of the OpenAPI document
// (lib/api/openapi.ts), whose descriptions are the `.describe()` texts here.
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
  hashes: z
    .array(z.string({ error: "every element of hashes must be a string" }), {
      error: "hashes must be an array of strings",
    })
    .describe("The list: each element is read as one line of a pasted list (a hash, or text with hashes in it)."),
  name: jobNameSchema.describe(
    `A name for the job, shown on its report (control characters become spaces; at most ${MAX_JOB_NAME_LENGTH} characters).`,
  ),
});

const invalidLineSchema = z.object({
  line: z.number().int().describe("1-based line (or element) number in the upload."),
  value: z.string().describe("The line as given."),
  reason: z.string().describe("Why no hash was taken from it."),
});

export const createJobResponseSchema = z.object({
  id: z.string().describe("The job's id."),
  url: z.url().describe("The report page, absolute (from PUBLIC_URL, or from the request)."),
  statusUrl: z.url().describe("GET /api/jobs/{id} of this job, absolute."),
  accepted: z.number().int().describe("Distinct hashes taken."),
  duplicates: z.number().int().describe("Repeats dropped."),
  invalid: z.array(invalidLineSchema).describe("The first 1,000 lines without a hash."),
  invalidCount: z.number().int().describe("Lines without a hash, in all."),
  manageToken: z
    .string()
    .describe("Needed (as X-Manage-Token) to cancel or retry the job; the report's link alone only reads it. Keep it with the id."),
});

export const taskStatusSchema = z.enum(["pending", "completed", "not_found", "failed", "cancelled"]);
export const jobStatusSchema = z.enum(["queued", "running", "completed", "cancelled"]);
const sourceSchema = z.enum(["virustotal", "simulator"]);

export const pauseSchema = z.object({
  until: z.iso.datetime().describe("When lookups resume."),
  cause: z.enum(["quota", "per_minute", "daily_limit", "monthly_limit", "bad_key"]),
  reason: z.string().describe("The cause in words."),
});

export const jobResultSchema = z.object({
  position: z.number().int().describe("0-based rank of the hash's first occurrence in the upload."),
  hash: z.string().describe("The hash as submitted, lower case."),
  hashType: z.enum(["md5", "sha1", "sha256"]),
  status: taskStatusSchema,
  sha256: z.string().nullable().describe("The file's SHA-256, once VirusTotal answered."),
  md5: z.string().nullable(),
  sha1: z.string().nullable(),
  fortinet: z.string().nullable().describe("Fortinet's detection name; null when Fortinet did not detect the file."),
  fortinetCategory: z.string().nullable().describe("Fortinet's verdict category (malicious, suspicious, undetected, …)."),
  detected: z.number().int().nullable().describe("How many engines detected the file."),
  engines: z.number().int().nullable().describe("How many engines scanned it."),
  scanDate: z.iso.datetime().nullable().describe("VirusTotal's last analysis of the file."),
  meaningfulName: z.string().nullable().describe("The file's most telling name, per VirusTotal."),
  fileType: z.string().nullable(),
  error: z.string().nullable().describe("Why the lookup failed (status failed)."),
  retryAt: z.iso.datetime().nullable().describe("A pending lookup's next try, when a pause or a backoff holds it."),
});

/** One file's cached report (GET /api/hashes/{hash}): a job's result row without its place, and where it came from. */
export const hashReportSchema = jobResultSchema.omit({ position: true }).extend({
  status: z.literal("completed").describe("Always completed: a file VirusTotal does not know, or one not looked up lately, is a 404."),
  source: sourceSchema.describe("Where the report came from."),
  fetchedAt: z.iso.datetime().describe("When the report was fetched from VirusTotal (or the simulator)."),
  ageSeconds: z.number().int().describe("Seconds since fetchedAt: the report answers for its file until CACHE_TTL_HOURS."),
});

export const jobReportSchema = z.object({
  id: z.string(),
  name: z.string().nullable().describe("The name given at submission."),
  createdAt: z.iso.datetime().describe("When the job was submitted."),
  status: jobStatusSchema.describe("queued: nothing final yet; running; completed: nothing pending; cancelled."),
  source: sourceSchema.describe("Who answers the job's lookups: VirusTotal, or the simulator when no VT_API_KEY is set."),
  counts: z
    .object({
      total: z.number().int(),
      pending: z.number().int(),
      completed: z.number().int(),
      notFound: z.number().int(),
      failed: z.number().int(),
      cancelled: z.number().int(),
    })
    .describe("The job's distinct hashes, in all and by status."),
  duplicates: z.number().int().describe("Repeats dropped at submission."),
  invalidCount: z.number().int().describe("Lines without a hash."),
  pause: pauseSchema.nullable().describe("Why lookups are held, while they are."),
  estimatedCompletion: z.iso
    .datetime()
    .nullable()
    .describe("When the last pending lookup should be done, from the job's place in the queue and the allowed rate."),
  estimateIsLowerBound: z
    .boolean()
    .describe("True when the queue ahead was too long to count in full: the job ends no earlier than estimatedCompletion."),
  results: z.array(jobResultSchema).describe("This page's rows (or, with since, the rows changed since)."),
  nextCursor: z.string().nullable().describe("The next page of the same filters and sort, as cursor; null on the last page (and with since)."),
  changeCursor: z.string().describe("Pass as since to get only the rows that changed after this response (it never skips a late commit)."),
  moreChanges: z.boolean().describe("With since: more changed rows than limit are waiting; ask again at once with the new changeCursor."),
});

export const REPORT_SORTS = ["position", "detections", "scanDate"] as const;

/** Which rows of a job, in which order: shared by the report, its pages and its export. */
export const reportFilterSchema = z.object({
  status: z
    .string()
    .transform((value) => value.split(",").filter(Boolean))
    .pipe(z.array(taskStatusSchema, { error: `status must be among ${taskStatusSchema.options.join(", ")}` }).max(5))
    .optional()
    .describe(`Rows in one status or several, comma-separated: ${taskStatusSchema.options.join(", ")}.`),
  fortinet: z
    .enum(["detected"], { error: "fortinet must be detected" })
    .optional()
    .describe("detected: rows Fortinet detected (it gave a detection name)."),
  minDetected: z.coerce
    .number({ error: "minDetected must be a number" })
    .int("minDetected must be an integer")
    .min(0, "minDetected must be between 0 and 1000")
    .max(1000, "minDetected must be between 0 and 1000")
    .optional()
    .describe("Rows at least this many engines detected."),
  hash: z
    .string()
    .regex(/^[0-9a-fA-F]{1,64}$/, "hash must be 1 to 64 hexadecimal characters")
    .transform((value) => value.toLowerCase())
    .optional()
    .describe("The start of the submitted hash, in hex (any case)."),
  sort: z
    .enum(REPORT_SORTS, { error: `sort must be one of ${REPORT_SORTS.join(", ")}` })
    .default("position")
    .describe("position: input order; detections: most detected first; scanDate: newest first. Files without a value come last."),
  order: z
    .enum(["asc", "desc"], { error: "order must be asc or desc" })
    .optional()
    .describe("position sorts asc by default, detections and scanDate desc; desc is the exact reverse of asc, ties included."),
});

export const reportQuerySchema = reportFilterSchema.extend({
  limit: z.coerce
    .number({ error: "limit must be a number" })
    .int("limit must be an integer")
    .min(1, "limit must be between 1 and 1000")
    .max(1000, "limit must be between 1 and 1000")
    .default(REPORT_PAGE_SIZE)
    .describe("Rows per response."),
  cursor: z
    .string()
    .max(200, "cursor is not one this API returned")
    .optional()
    .describe("The nextCursor of the previous page (keyset pagination: a deep page costs what the first does)."),
  since: z
    .string()
    .max(200, "since is not a changeCursor this API returned")
    .optional()
    .describe("The changeCursor of an earlier response: only the rows written since, in write order. Takes no filter or sort; never answered 304."),
});

export const EXPORT_FORMATS = ["csv", "json", "ndjson"] as const;
export const exportQuerySchema = reportFilterSchema.extend({
  format: z
    .enum(EXPORT_FORMATS, { error: `format must be one of ${EXPORT_FORMATS.join(", ")}` })
    .default("csv")
    .describe("csv (RFC 4180, with a header row), json (one array) or ndjson (one object per line)."),
});

/** One exported row (JSON and NDJSON; CSV has the same fields as columns): a result without its place or retry time. */
export const exportRecordSchema = jobResultSchema.omit({ position: true, retryAt: true });

export const serviceStatusSchema = z.object({
  source: sourceSchema,
  limits: z
    .object({
      perMinute: z.number().int(),
      perDay: z.number().int(),
      perMonth: z.number().int(),
      windowSeconds: z.number().int().describe("The per-minute limit's window (VT_RATE_WINDOW_SECONDS)."),
    })
    .describe("Requests to VirusTotal allowed (VT_REQUESTS_PER_MINUTE, VT_REQUESTS_PER_DAY, VT_REQUESTS_PER_MONTH)."),
  usage: z
    .object({
      lastMinute: z.number().int().describe("Requests in the last window."),
      today: z.number().int().describe("Requests this UTC day."),
      thisMonth: z.number().int().describe("Requests this UTC month."),
      savedToday: z.number().int().describe("Lookups answered from our cache today, without a request."),
    })
    .describe("Requests to VirusTotal spent."),
  waitingLookups: z.number().int().describe("Lookups in the queue."),
  pause: pauseSchema.nullable().describe("Why lookups are held, while they are."),
  // Where workers run (host, process) is for operators, in the worker's own logs, not for anyone who can reach the page.
  workers: z
    .array(
      z.object({
        id: z.string().describe("The worker pool's id."),
        concurrency: z.number().int().describe("Lookups it runs at once."),
        startedAt: z.iso.datetime().describe("When the pool started."),
        lastBeatAt: z.iso.datetime().describe("Its last heartbeat."),
        heartbeatAgeSeconds: z.number().int().describe("Seconds since lastBeatAt."),
      }),
    )
    .describe("Live worker pools: how many lookups each runs at once, and how recently each was heard."),
});

/** GET /api/health while the database answers (503 in the error shape when it does not). */
export const healthSchema = z.object({
  status: z.literal("ok"),
  database: z.literal("ok"),
  worker: z.object({
    newestHeartbeatAgeSeconds: z
      .number()
      .int()
      .nullable()
      .describe("Seconds since the newest worker's heartbeat; null when no worker is registered. Alert on null or on a stale age."),
    staleAfterSeconds: z.number().int().describe("Past this age the newest worker has gone silent and is taken for dead (WORKER_STALE_SECONDS)."),
  }),
});

export const cancelResultSchema = z.object({
  cancelled: z.number().int().describe("Pending tasks ended as cancelled (0 when the job was cancelled already)."),
});
export const retryResultSchema = z.object({ retried: z.number().int().describe("Failed tasks queued again.") });

export type ServiceStatus = z.infer<typeof serviceStatusSchema>;
export type Health = z.infer<typeof healthSchema>;
export type CancelResult = z.infer<typeof cancelResultSchema>;
export type RetryResult = z.infer<typeof retryResultSchema>;
export type Pause = z.infer<typeof pauseSchema>;

/** The API's view of a stored pause. */
export function toPauseJson(pause: { until: Date; cause: Pause["cause"]; reason: string } | null): Pause | null {
  return pause ? { until: pause.until.toISOString(), cause: pause.cause, reason: pause.reason } : null;
}
export type CreateJobJson = z.infer<typeof createJobJsonSchema>;
export type CreateJobResponse = z.infer<typeof createJobResponseSchema>;
export type JobResult = z.infer<typeof jobResultSchema>;
export type JobReport = z.infer<typeof jobReportSchema>;
export type HashReport = z.infer<typeof hashReportSchema>;
export type JobStatus = z.infer<typeof jobStatusSchema>;
export type ReportFilter = z.infer<typeof reportFilterSchema>;
export type ReportQuery = z.infer<typeof reportQuerySchema>;
export type ExportQuery = z.infer<typeof exportQuerySchema>;
export type ReportSort = (typeof REPORT_SORTS)[number];
