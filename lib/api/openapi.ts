// The OpenAPI 3.1 document of the JSON API (GET /api/openapi.json, rendered at /api/docs). The operations' prose is in
// openapi-operations.ts; every schema is zod's conversion of the one the handlers use (openapi-schemas.ts).
import { z } from "zod";
import { appErrorCodeSchema, ERROR_CODES, errorBodySchema, type AppErrorCode } from "@/lib/errors";
import * as api from "@/lib/jobs/api-schema";
import packageJson from "@/package.json";
import { OPERATIONS, type OperationSpec, type ResponseHeader } from "./openapi-operations";
import { jsonSchemaOf, SchemaCollector, type JsonSchema } from "./openapi-schemas";

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description: string };
  servers: { url: string }[];
  tags: { name: string; description: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: {
    schemas: Record<string, JsonSchema>;
    headers: Record<string, { description: string; schema: JsonSchema }>;
    securitySchemes: Record<string, Record<string, string>>;
  };
}

export interface Parameter {
  name: string;
  in: "path" | "query" | "header";
  required: boolean;
  description?: string;
  schema: JsonSchema;
}

export interface Response {
  description: string;
  headers?: Record<string, { $ref: string }>;
  content?: Record<string, { schema: JsonSchema }>;
}

export interface Operation {
  operationId: string;
  tags: string[];
  summary: string;
  description: string;
  security: Record<string, string[]>[];
  parameters: Parameter[];
  requestBody?: { required: boolean; description: string; content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, Response>;
  "x-codeSamples": { lang: "Shell"; label: string; source: string }[];
}

/** Shapes with a name of their own in components.schemas (a request body's, then the responses'). */
const NAMED = {
  input: { CreateJobRequest: api.createJobJsonSchema },
  output: {
    CreateJobResponse: api.createJobResponseSchema,
    JobReport: api.jobReportSchema,
    JobResult: api.jobResultSchema,
    TaskStatus: api.taskStatusSchema,
    Pause: api.pauseSchema,
    ExportRecord: api.exportRecordSchema,
    CancelResult: api.cancelResultSchema,
    RetryResult: api.retryResultSchema,
    HashReport: api.hashReportSchema,
    ServiceStatus: api.serviceStatusSchema,
    Health: api.healthSchema,
    ErrorBody: errorBodySchema,
    ErrorCode: appErrorCodeSchema,
  },
};

const HEADERS: Record<ResponseHeader | "Retry-After" | "WWW-Authenticate", { description: string; schema: z.ZodType }> = {
  Location: { description: "The job's report page (the same as url).", schema: z.url() },
  "Idempotent-Replayed": {
    description: "true when this is the answer to an earlier request with the same Idempotency-Key: no job was created now.",
    schema: z.literal("true"),
  },
  ETag: { description: "A weak validator of the job's state (its changes, its cancel, the pause): send it as If-None-Match.", schema: z.string() },
  "Cache-Control": { description: "private, no-cache for a report (revalidate); no-store where an answer must not be kept.", schema: z.string() },
  "Content-Disposition": { description: 'attachment; filename="hashscan-<name>-<id>.<format>"', schema: z.string() },
  "Retry-After": { description: "Seconds until the client may submit again.", schema: z.string().regex(/^\d+$/) },
  "WWW-Authenticate": { description: 'Bearer realm="hashscan"', schema: z.string() },
};

const SECURITY: Record<OperationSpec["access"], Record<string, string[]>[]> = {
  public: [],
  // `{}` makes the bearer token optional: a deployment without API_TOKENS takes none.
  apiToken: [{ apiToken: [] }, {}],
  manage: [{ apiToken: [], manageToken: [] }, { manageToken: [] }],
};

let cached: { components: Record<string, JsonSchema>; paths: OpenApiDocument["paths"] } | undefined;

/** The document, with `baseUrl` (PUBLIC_URL, or the request's: lib/api/public-url.ts) as its server and in its examples. */
export function openApiDocument(baseUrl: string): OpenApiDocument {
  cached ??= convert();
  return {
    openapi: "3.1.1",
    info: {
      title: "Hashscan API",
      version: packageJson.version,
      description:
        "Submit file hashes, follow their lookups on VirusTotal, read and export the results. Every error is answered as " +
        "`{\"error\": {\"code\", \"message\"}}` with a stable code (ErrorCode). Where the deployment sets API_TOKENS, creating, " +
        "cancelling and retrying a job and reading a file's cached report need `Authorization: Bearer <token>`; reading a job " +
        "needs only its id, cancelling and retrying also its manage token.",
    },
    servers: [{ url: baseUrl }],
    tags: [
      { name: "Jobs", description: "Submitting hashes, reading and exporting their results, cancelling and retrying." },
      { name: "Files", description: "One file's report, from the cache." },
      { name: "Service", description: "The lookup service's state, health, and this document." },
    ],
    paths: withSamples(cached.paths, baseUrl),
    components: {
      schemas: cached.components,
      headers: Object.fromEntries(
        Object.entries(HEADERS).map(([name, { description, schema }]) => [name, { description, schema: jsonSchemaOf(schema, "output") }]),
      ),
      securitySchemes: {
        apiToken: {
          type: "http",
          scheme: "bearer",
          description:
            "Only where the deployment sets API_TOKENS: then the operations that list it need Authorization: Bearer <one of them> " +
            "(401 unauthorized otherwise). Without API_TOKENS they take no token.",
        },
        manageToken: {
          type: "apiKey",
          in: "header",
          name: "X-Manage-Token",
          description: "The manageToken POST /api/jobs answered with: cancelling and retrying a job need it (403 forbidden otherwise).",
        },
      },
    },
  };
}

function convert() {
  const schemas = new SchemaCollector(NAMED);
  const paths: OpenApiDocument["paths"] = {};
  for (const spec of OPERATIONS) (paths[spec.path] ??= {})[spec.method] = operation(spec, schemas);
  const { components, document } = schemas.finish(paths);
  components.ErrorCode.description = (Object.entries(ERROR_CODES) as [AppErrorCode, (typeof ERROR_CODES)[AppErrorCode]][])
    .map(([code, { status, meaning }]) => `- \`${code}\` (${status}): ${meaning}`)
    .join("\n");
  return { components, paths: document };
}

function operation(spec: OperationSpec, schemas: SchemaCollector): Operation {
  const content = (media: Record<string, z.ZodType>, io: "input" | "output") =>
    Object.fromEntries(Object.entries(media).map(([type, schema]) => [type, { schema: schemas.use(schema, io) }]));
  const headerRefs = (names: string[] = []) => Object.fromEntries(names.map((name) => [name, { $ref: `#/components/headers/${name}` }]));

  const responses: Record<string, Response> = {};
  for (const [status, response] of Object.entries(spec.responses)) {
    responses[status] = {
      description: response.description,
      ...(response.headers && { headers: headerRefs(response.headers) }),
      ...(response.content && { content: content(response.content, "output") }),
    };
  }
  for (const [status, codes] of errorsByStatus(spec.errors)) {
    const headers = [...(codes.includes("unauthorized") ? ["WWW-Authenticate"] : []), ...(codes.includes("rate_limited") ? ["Retry-After"] : [])];
    responses[status] = {
      description: codes.map((code) => `\`${code}\`: ${spec.errors[code]}`).join("\n\n"),
      ...(headers.length > 0 && { headers: headerRefs(headers) }),
      content: { "application/json": { schema: schemas.use(errorBodyOf(codes), "output") } },
    };
  }

  return {
    operationId: spec.operationId,
    tags: [spec.tag],
    summary: spec.summary,
    description: spec.description,
    security: SECURITY[spec.access],
    parameters: [
      ...Object.entries(spec.pathParams ?? {}).map(([name, schema]) => parameter(name, "path", jsonSchemaOf(schema, "input"), true)),
      ...queryParameters(spec.query),
      ...(spec.headers ?? []).map((header) => parameter(header.name, "header", jsonSchemaOf(header.schema, "input"), header.required ?? false)),
    ],
    ...(spec.requestBody && {
      requestBody: { required: true, description: spec.requestBody.description, content: content(spec.requestBody.content, "input") },
    }),
    responses,
    "x-codeSamples": [],
  };
}

/** A query object's fields, one parameter each: the description moves from the field's schema to the parameter. */
function queryParameters(query: z.ZodObject | undefined): Parameter[] {
  if (!query) return [];
  const json = jsonSchemaOf(query, "input") as { properties: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties).map(([name, schema]) => parameter(name, "query", schema, json.required?.includes(name) ?? false));
}

function parameter(name: string, where: Parameter["in"], { description, ...schema }: JsonSchema, required: boolean): Parameter {
  return { name, in: where, required, ...(typeof description === "string" && { description }), schema };
}

/** The error codes an operation answers, grouped by their HTTP status, in order. */
function errorsByStatus(errors: OperationSpec["errors"]): [number, AppErrorCode[]][] {
  const byStatus = new Map<number, AppErrorCode[]>();
  for (const code of appErrorCodeSchema.options) {
    if (errors[code] !== undefined) byStatus.set(ERROR_CODES[code].status, [...(byStatus.get(ERROR_CODES[code].status) ?? []), code]);
  }
  return [...byStatus].sort(([a], [b]) => a - b);
}

/** The error envelope narrowed to the codes one response can carry. */
const errorBodies = new Map<string, z.ZodType>();
function errorBodyOf(codes: AppErrorCode[]): z.ZodType {
  const key = codes.join(",");
  let body = errorBodies.get(key);
  if (!body) {
    body = errorBodySchema.extend({ error: errorBodySchema.shape.error.extend({ code: appErrorCodeSchema.extract(codes) }) });
    errorBodies.set(key, body);
  }
  return body;
}

function withSamples(paths: OpenApiDocument["paths"], baseUrl: string): OpenApiDocument["paths"] {
  const withBase: OpenApiDocument["paths"] = {};
  for (const spec of OPERATIONS) {
    const samples = spec.samples(baseUrl).map(({ label, source }) => ({ lang: "Shell" as const, label, source }));
    (withBase[spec.path] ??= {})[spec.method] = { ...paths[spec.path][spec.method], "x-codeSamples": samples };
  }
  return withBase;
}
