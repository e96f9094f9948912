// Every operation of the JSON API as the OpenAPI document tells it: the prose, the headers, which zod schema each
// body has, and every error each one can answer. lib/api/openapi.ts turns these into the document.
import { z } from "zod";
import type { AppErrorCode } from "@/lib/errors";
import * as api from "@/lib/jobs/api-schema";
import { MAX_JOB_NAME_LENGTH, MAX_UPLOAD_LABEL } from "@/lib/jobs/upload-limits";

/** Response headers the document defines once (components.headers). */
export type ResponseHeader = "Location" | "Idempotent-Replayed" | "ETag" | "Cache-Control" | "Content-Disposition";

export interface OperationSpec {
  method: "get" | "post";
  path: string;
  operationId: string;
  tag: "Jobs" | "Files" | "Service";
  summary: string;
  description: string;
  /** public: anyone; apiToken: a bearer token where API_TOKENS is set; manage: that, and the job's manage token too. */
  access: "public" | "apiToken" | "manage";
  pathParams?: Record<string, z.ZodType>;
  query?: z.ZodObject;
  headers?: { name: string; schema: z.ZodType; required?: boolean }[];
  requestBody?: { description: string; content: Record<string, z.ZodType> };
  responses: Record<number, { description: string; content?: Record<string, z.ZodType>; headers?: ResponseHeader[] }>;
  /** Every error it answers in the error envelope, and when. */
  errors: Partial<Record<AppErrorCode, string>>;
  /** curl command lines, given the server's base URL. */
  samples: (base: string) => { label: string; source: string }[];
}

const jobId = z.string().describe("The job's id, as POST /api/jobs answered it.");
/** A job's name as a client sends it (a query parameter or a form field: a string, never null). */
const jobName = api.jobNameSchema.unwrap().unwrap().optional();
const UNAVAILABLE = "The database does not answer.";
const INTERNAL = "A bug on our side: the detail is in the server's log, not in the answer.";

const manageErrors = {
  unauthorized: "API_TOKENS is set and no valid bearer token came with the request.",
  forbidden: "X-Manage-Token is missing or is not this job's, or a browser sent the request from another site.",
  not_found: "No job with this id.",
  internal: INTERNAL,
  unavailable: UNAVAILABLE,
} satisfies OperationSpec["errors"];

export const OPERATIONS: OperationSpec[] = [
  {
    method: "post",
    path: "/api/jobs",
    operationId: "createJob",
    tag: "Jobs",
    summary: "Submit hashes as a job",
    description:
      "Creates a job from a list of MD5, SHA-1 or SHA-256 hashes (any case, anywhere in a line; a line may hold several). " +
      `The body is one of four media types, at most ${MAX_UPLOAD_LABEL}; any of them may come compressed (\`Content-Encoding: gzip\` ` +
      "or `deflate`), and the limit then counts the decompressed bytes. A job holds at most JOB_MAX_HASHES distinct hashes " +
      "(a deployment setting). Hashes whose report is in the cache are answered at once; the rest are queued.\n\n" +
      "**Retries:** send an `Idempotency-Key`. Within 24 hours, the same key with the same request (same list bytes, same name) " +
      "from the same client (its API token, else its address) answers the first response's 201 body again, `manageToken` " +
      "included, with `Idempotent-Replayed: true`, and creates nothing (nor counts against the client's limits); two identical " +
      "requests at once create one job. The same key with another request is `409 conflict`.",
    access: "apiToken",
    query: z.object({
      name: jobName.describe(`The job's name for a text or x-www-form-urlencoded body (a multipart body's own name field comes first; at most ${MAX_JOB_NAME_LENGTH} characters).`),
    }),
    headers: [
      {
        name: "Idempotency-Key",
        schema: z
          .string()
          .min(1)
          .max(255)
          .describe("Your own name for this request (a UUID, say): 1 to 255 printable ASCII characters, no spaces. See Retries above."),
      },
      {
        name: "Content-Encoding",
        schema: z.enum(["gzip", "deflate", "identity"]).describe("The body's compression; the upload limit counts what comes out of it."),
      },
    ],
    requestBody: {
      description: "The list of hashes, in one of four forms.",
      content: {
        "application/json": api.createJobJsonSchema,
        "text/plain": z.string().describe("The list itself: a pasted list or a file, one hash or more a line. The name goes in ?name=."),
        "application/x-www-form-urlencoded": z
          .string()
          .describe("The list itself, not form fields: what `curl --data-binary @file` sends. The name goes in ?name=."),
        "multipart/form-data": z.object({
          file: z.file().describe("The list, as a file: one file per job."),
          name: jobName.describe(`The job's name (else ?name=); at most ${MAX_JOB_NAME_LENGTH} characters.`),
        }),
      },
    },
    responses: {
      201: {
        description: "The job was created (or, for a repeated Idempotency-Key and request, created earlier: then Idempotent-Replayed is true).",
        content: { "application/json": api.createJobResponseSchema },
        headers: ["Location", "Idempotent-Replayed"],
      },
    },
    errors: {
      invalid_json: "The application/json body does not parse.",
      invalid_parameter:
        "The body has the wrong shape (hashes not an array of strings, a multipart body without a file or with several), " +
        "the name is too long, the Idempotency-Key is malformed, the compressed body is corrupt, or the upload was cut off.",
      no_valid_hashes: "No line holds a hash.",
      unauthorized: "API_TOKENS is set and no valid bearer token came with the request.",
      forbidden: "A browser sent the request from another site.",
      conflict: "The Idempotency-Key came with another request within 24 hours, or the job it created is gone.",
      payload_too_large: `The upload is larger than ${MAX_UPLOAD_LABEL}, or holds more hashes than a job or the client's day may.`,
      unsupported_media_type: "The Content-Type or Content-Encoding is none of those above.",
      rate_limited: "The client is past CLIENT_JOBS_PER_HOUR or CLIENT_HASHES_PER_DAY.",
      internal: INTERNAL,
      unavailable: UNAVAILABLE,
    },
    samples: (base) => [
      { label: "A file, one hash a line", source: `curl -sS --data-binary @hashes.txt "${base}/api/jobs?name=triage"` },
      {
        label: "JSON",
        source: `curl -sS -H 'Content-Type: application/json' \\\n  -d '{"hashes": ["44d88612fea8a8f36de82e1278abb02f"], "name": "eicar"}' \\\n  ${base}/api/jobs`,
      },
      { label: "Multipart, as a form uploads", source: `curl -sS -F file=@hashes.txt -F name=triage ${base}/api/jobs` },
      {
        label: "Compressed, safe to retry, with a token",
        source:
          `gzip -c hashes.txt | curl -sS --retry 3 --data-binary @- \\\n  -H 'Content-Type: text/plain' -H 'Content-Encoding: gzip' \\\n` +
          `  -H "Idempotency-Key: $(uuidgen)" -H "Authorization: Bearer $HASHSCAN_TOKEN" \\\n  ${base}/api/jobs`,
      },
    ],
  },
  {
    method: "get",
    path: "/api/jobs/{id}",
    operationId: "getJobReport",
    tag: "Jobs",
    summary: "Read a job's progress and results",
    description:
      "The job's counts, its estimated completion and a page of its results. Pages: pass `cursor` the `nextCursor` of the " +
      "previous page. Changes only: pass `since` the `changeCursor` of any earlier response to get the rows written since; " +
      "to mirror a whole job, page through it keeping the first page's `changeCursor`, then follow changes from there.\n\n" +
      "**Revalidation:** every 200 (without `since`) carries a weak `ETag`; send it back as `If-None-Match` and an unchanged job " +
      "answers `304` with no body. The ETA and `retryAt` drift with the clock without changing the ETag. Reading a report needs " +
      "no token: its id is the key.",
    access: "public",
    pathParams: { id: jobId },
    query: api.reportQuerySchema,
    headers: [
      {
        name: "If-None-Match",
        schema: z.string().describe("The ETag of an earlier 200 (or several, comma-separated, or *): 304 while the job is unchanged. Ignored with since."),
      },
    ],
    responses: {
      200: { description: "The report.", content: { "application/json": api.jobReportSchema }, headers: ["ETag", "Cache-Control"] },
      304: { description: "Unchanged since the ETag given in If-None-Match: no body.", headers: ["ETag", "Cache-Control"] },
    },
    errors: {
      invalid_parameter: "A query parameter is malformed or out of range, a cursor is not one this API returned, or since came with a filter or a cursor.",
      not_found: "No job with this id (or it has expired).",
      internal: INTERNAL,
      unavailable: UNAVAILABLE,
    },
    samples: (base) => [
      { label: "The first page", source: `curl -sS "${base}/api/jobs/$JOB_ID"` },
      { label: "Detected files, most detected first", source: `curl -sS "${base}/api/jobs/$JOB_ID?minDetected=1&sort=detections&limit=1000"` },
      { label: "Poll cheaply", source: `curl -sS -i -H "If-None-Match: $ETAG" "${base}/api/jobs/$JOB_ID"` },
    ],
  },
  {
    method: "get",
    path: "/api/jobs/{id}/export",
    operationId: "exportJob",
    tag: "Jobs",
    summary: "Download a job's results as a file",
    description:
      "The rows of the job with the same filters and sort as the report, as a file named after the job " +
      "(`hashscan-<name>-<id>.<format>`), streamed from a database cursor. CSV columns: hash, type, status, md5, sha1, sha256, " +
      "fortinet_name, fortinet_category, detected, engines, scan_date, meaningful_name, file_type, error (JSON and NDJSON use " +
      "the field names of ExportRecord). A CSV cell starting with = + - @, a tab or a carriage return gets a leading ' so that " +
      "a spreadsheet shows it as text. At most 4 exports run at once per web process.",
    access: "public",
    pathParams: { id: jobId },
    query: api.exportQuerySchema,
    responses: {
      200: {
        description: "The file, as an attachment.",
        content: {
          "text/csv": z.string().describe("RFC 4180: CRLF line ends, quotes doubled, a header row."),
          "application/json": z.array(api.exportRecordSchema),
          "application/x-ndjson": z.string().describe("One ExportRecord as JSON per line."),
        },
        headers: ["Content-Disposition", "Cache-Control"],
      },
    },
    errors: {
      invalid_parameter: "A query parameter is malformed or out of range.",
      not_found: "No job with this id (or it has expired).",
      internal: INTERNAL,
      unavailable: "Too many exports are running on this server, or the database does not answer.",
    },
    samples: (base) => [
      { label: "CSV, saved under its own name", source: `curl -sS -OJ "${base}/api/jobs/$JOB_ID/export?format=csv"` },
      { label: "NDJSON of the detected files", source: `curl -sS "${base}/api/jobs/$JOB_ID/export?format=ndjson&fortinet=detected"` },
    ],
  },
  {
    method: "post",
    path: "/api/jobs/{id}/cancel",
    operationId: "cancelJob",
    tag: "Jobs",
    summary: "Cancel a job",
    description:
      "The job's pending tasks end as `cancelled`; lookups that no other job is waiting for leave the queue. Cancelling a " +
      "cancelled job answers 0.",
    access: "manage",
    pathParams: { id: jobId },
    responses: { 200: { description: "How many tasks were cancelled.", content: { "application/json": api.cancelResultSchema } } },
    errors: manageErrors,
    samples: (base) => [
      { label: "Cancel", source: `curl -sS -X POST -H "X-Manage-Token: $MANAGE_TOKEN" "${base}/api/jobs/$JOB_ID/cancel"` },
    ],
  },
  {
    method: "post",
    path: "/api/jobs/{id}/retry",
    operationId: "retryJob",
    tag: "Jobs",
    summary: "Retry a job's failed lookups",
    description: "The job's failed tasks are queued again, beside the client's other lookups. Nothing failed: 0.",
    access: "manage",
    pathParams: { id: jobId },
    responses: { 200: { description: "How many tasks were queued again.", content: { "application/json": api.retryResultSchema } } },
    errors: { ...manageErrors, conflict: "The job was cancelled: submit its hashes again instead." },
    samples: (base) => [
      { label: "Retry", source: `curl -sS -X POST -H "X-Manage-Token: $MANAGE_TOKEN" "${base}/api/jobs/$JOB_ID/retry"` },
    ],
  },
  {
    method: "get",
    path: "/api/hashes/{hash}",
    operationId: "getCachedReport",
    tag: "Files",
    summary: "Read the cached report of one file",
    description:
      "The report of one file by any of its three names, as the cache holds it: in the shape of a job's result row, with " +
      "the report's age and source. It never spends a request to VirusTotal: a file not looked up within CACHE_TTL_HOURS is a " +
      "404 (submit it as a job). While a VirusTotal key is set, a report from the simulator is never answered.",
    access: "apiToken",
    pathParams: { hash: z.string().describe("An MD5, SHA-1 or SHA-256 of the file: 32, 40 or 64 hexadecimal digits, any case.") },
    responses: {
      200: { description: "The cached report.", content: { "application/json": api.hashReportSchema }, headers: ["Cache-Control"] },
    },
    errors: {
      invalid_parameter: "The hash is not 32, 40 or 64 hexadecimal digits.",
      unauthorized: "API_TOKENS is set and no valid bearer token came with the request.",
      not_found: "No fresh report of this file is cached, or VirusTotal did not know it when last asked.",
      internal: INTERNAL,
      unavailable: UNAVAILABLE,
    },
    samples: (base) => [
      { label: "By SHA-256", source: `curl -sS "${base}/api/hashes/275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"` },
    ],
  },
  {
    method: "get",
    path: "/api/status",
    operationId: "getServiceStatus",
    tag: "Service",
    summary: "The lookup service at a glance",
    description:
      "Where reports come from, the request budget and what is spent of it, the lookups waiting, a pause in force and the live " +
      "worker pools: what the strip under every page's header shows. Read at most every few seconds per web process.",
    access: "public",
    responses: { 200: { description: "The service status.", content: { "application/json": api.serviceStatusSchema }, headers: ["Cache-Control"] } },
    errors: { internal: INTERNAL, unavailable: UNAVAILABLE },
    samples: (base) => [{ label: "Status", source: `curl -sS ${base}/api/status` }],
  },
  {
    method: "get",
    path: "/api/health",
    operationId: "getHealth",
    tag: "Service",
    summary: "Health check",
    description:
      "For a load balancer or a container's healthcheck: 200 while the database answers within 3 s. A stopped worker does not " +
      "make the web app unhealthy: alert on `newestHeartbeatAgeSeconds` (null, or past `staleAfterSeconds`).",
    access: "public",
    responses: { 200: { description: "The database answers.", content: { "application/json": api.healthSchema }, headers: ["Cache-Control"] } },
    errors: { internal: INTERNAL, unavailable: "The database did not answer within 3 s." },
    samples: (base) => [{ label: "Health", source: `curl -sS -f ${base}/api/health` }],
  },
  {
    method: "get",
    path: "/api/openapi.json",
    operationId: "getOpenApiDocument",
    tag: "Service",
    summary: "This document",
    description: "The OpenAPI 3.1 document of this API, generated from the schemas the handlers use. A readable version is at /api/docs.",
    access: "public",
    responses: {
      200: {
        description: "The OpenAPI document.",
        content: { "application/json": z.looseObject({ openapi: z.string() }).describe("An OpenAPI 3.1 document.") },
      },
    },
    errors: { internal: INTERNAL },
    samples: (base) => [{ label: "The document", source: `curl -sS ${base}/api/openapi.json` }],
  },
];
