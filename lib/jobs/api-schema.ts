// Request and response shapes of the JSON API, in zod: the one source of their types (and, later, of OpenAPI).
import { z } from "zod";
import { MAX_JOB_NAME_LENGTH, REPORT_PAGE_SIZE } from "./upload-limits";

export const jobNameSchema = z
  .string()
  .trim()
  .max(MAX_JOB_NAME_LENGTH, `name must be at most ${MAX_JOB_NAME_LENGTH} characters`)
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
});

export const taskStatusSchema = z.enum(["pending", "completed", "not_found", "failed", "cancelled"]);
export const jobStatusSchema = z.enum(["queued", "running", "completed", "cancelled"]);

export const pauseSchema = z.object({
  until: z.iso.datetime(),
  cause: z.enum(["quota", "per_minute", "daily_limit", "monthly_limit", "bad_key"]),
  reason: z.string(),
});

export const jobResultSchema = z.object({
  hash: z.string(),
  hashType: z.enum(["md5", "sha1", "sha256"]),
  status: taskStatusSchema,
  sha256: z.string().nullable(),
  fortinet: z.string().nullable(),
  fortinetCategory: z.string().nullable(),
  detected: z.number().int().nullable(),
  engines: z.number().int().nullable(),
  scanDate: z.iso.datetime().nullable(),
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
  results: z.array(jobResultSchema),
  nextCursor: z.string().nullable(),
});

export const reportQuerySchema = z.object({
  limit: z.coerce
    .number({ error: "limit must be a number" })
    .int("limit must be an integer")
    .min(1, "limit must be between 1 and 1000")
    .max(1000, "limit must be between 1 and 1000")
    .default(REPORT_PAGE_SIZE),
  cursor: z.string().optional(),
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
  workers: z.array(
    z.object({
      id: z.string(),
      hostname: z.string(),
      pid: z.number().int(),
      concurrency: z.number().int(),
      startedAt: z.iso.datetime(),
      lastBeatAt: z.iso.datetime(),
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
