// The JSON API as the client calls it: every answer checked against the server's own zod schemas, every refusal
// read from the error envelope, and what can be asked again (no answer, 502/503/504) asked again a couple of times.
import { randomUUID } from "node:crypto";
import { gzipSync } from "node:zlib";
import { z } from "zod";
import {
  createJobResponseSchema,
  isJobId,
  jobReportSchema,
  serviceStatusSchema,
  type CreateJobResponse,
  type JobReport,
  type ServiceStatus,
} from "@/lib/jobs/api-schema";
import type { Connection } from "./args";
import { ApiError } from "./errors";
import { cell } from "./format";

// Not yet in lib/jobs/api-schema.ts: the envelope every route answers an error with (lib/api/respond.ts).
const errorEnvelopeSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

// A submission's id, links and token are printed as they came, on stdout and stderr: from whatever --server points
// at, they must be what our server sends (ids and tokens base64url, links without control characters), never
// escape sequences for the terminal.
const shownAsIs = (text: string) => cell(text) === text;
const createdJobSchema = createJobResponseSchema.extend({
  id: z.string().refine(isJobId, "not a job id"),
  url: createJobResponseSchema.shape.url.refine(shownAsIs, "holds control characters"),
  statusUrl: createJobResponseSchema.shape.statusUrl.refine(shownAsIs, "holds control characters"),
  manageToken: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, "not a manage token"),
});

/**
 * The most of an answer held in memory: a 1,000-row report page or a submission's 1,000 invalid lines is a few MB at
 * most. An answer past it is a server gone wrong (or hostile), refused as it arrives instead of read to the end.
 */
const MAX_ANSWER_BYTES = 32 * 1024 * 1024;
/** Of a refusal's message, what is worth showing. */
const MAX_MESSAGE_CHARS = 500;
/** Statuses whose answer has no body (a Response with one cannot be made). */
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/** Waits before the second and third tries; a 503's Retry-After is taken instead, up to MAX_RETRY_AFTER_MS. */
const RETRY_DELAYS_MS = [1000, 2000];
const MAX_RETRY_AFTER_MS = 10_000;
/** A report, a status: small answers. */
const READ_TIMEOUT_MS = 60_000;
/** Creating a job of a million hashes takes about a minute on a small server, after the upload itself. */
const CREATE_TIMEOUT_MS = 15 * 60_000;
/** Bodies larger than this travel gzipped (hex digits compress to about half); the server's limit counts them unzipped. */
const GZIP_FROM_BYTES = 1024 * 1024;

export type ExportFormat = "csv" | "json";

interface Attempt {
  method?: "GET" | "POST";
  path: string;
  headers?: Record<string, string>;
  body?: Uint8Array<ArrayBuffer>;
  timeoutMs: number;
  /** Date.now() past which no try is made or waited for (a wait's --timeout): tries end there, whatever timeoutMs says. */
  until?: number | null;
  /** For a streamed body: the timeout covers the wait for the headers, then each wait for more of the body. */
  stream?: boolean;
}

export class HashscanApi {
  constructor(
    private readonly connection: Connection,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    private readonly readTimeoutMs = READ_TIMEOUT_MS,
  ) {}

  get server(): string {
    return this.connection.server;
  }

  /**
   * POST /api/jobs with the list as text/plain. One Idempotency-Key for every try of this call: a server that
   * honours it answers a retried request with the job the first one created, if it did.
   */
  async createJob(list: Uint8Array<ArrayBuffer>, name: string | null): Promise<CreateJobResponse> {
    const zipped = list.byteLength > GZIP_FROM_BYTES;
    const response = await this.send({
      method: "POST",
      path: `/api/jobs${name ? `?name=${encodeURIComponent(name)}` : ""}`,
      headers: {
        "content-type": "text/plain",
        "idempotency-key": randomUUID(),
        ...(zipped ? { "content-encoding": "gzip" } : {}),
      },
      body: zipped ? new Uint8Array(gzipSync(list)) : list,
      timeoutMs: CREATE_TIMEOUT_MS,
    });
    return this.read(response, createdJobSchema);
  }

  /**
   * GET /api/jobs/{id} with `query`; with `etag`, null when the job has not changed since (304). With `until`, given up
   * (no answer) at that moment.
   */
  async report(
    id: string,
    query: Record<string, string>,
    etag?: string,
    until?: number | null,
  ): Promise<{ report: JobReport; etag: string | null } | null> {
    const response = await this.send({
      path: `/api/jobs/${encodeURIComponent(id)}?${new URLSearchParams(query)}`,
      headers: etag ? { "if-none-match": etag } : {},
      timeoutMs: this.readTimeoutMs,
      until,
    });
    if (response.status === 304) return null;
    return { report: await this.read(response, jobReportSchema), etag: response.headers.get("etag") };
  }

  /** The job's export (GET /api/jobs/{id}/export), the file the report page downloads, as a stream of bytes. */
  async exportBody(id: string, format: ExportFormat): Promise<ReadableStream<Uint8Array>> {
    const response = await this.send({
      path: `/api/jobs/${encodeURIComponent(id)}/export?format=${format}`,
      timeoutMs: this.readTimeoutMs,
      stream: true,
    });
    const type = response.headers.get("content-type") ?? "";
    const expected = format === "csv" ? "text/csv" : "application/json";
    if (!type.startsWith(expected) || !response.body) {
      throw new ApiError(`${this.server} answered the export with ${type || "no content type"}, not ${expected}: is it a Hashscan server?`, response.status);
    }
    return response.body;
  }

  async status(): Promise<ServiceStatus> {
    return this.read(await this.send({ path: "/api/status", timeoutMs: this.readTimeoutMs }), serviceStatusSchema);
  }

  private async send(attempt: Attempt): Promise<Response> {
    for (let tries = 1; ; tries++) {
      try {
        return await this.sendOnce(attempt);
      } catch (error) {
        if (!(error instanceof ApiError) || !error.transient || tries > RETRY_DELAYS_MS.length) throw error;
        const { retryAfterSeconds } = error;
        const delay = retryAfterSeconds === null ? RETRY_DELAYS_MS[tries - 1] : Math.min(retryAfterSeconds * 1000, MAX_RETRY_AFTER_MS);
        if (attempt.until != null && Date.now() + delay >= attempt.until) throw error;
        await this.sleep(delay);
      }
    }
  }

  private async sendOnce({ method = "GET", path, headers = {}, body, timeoutMs: ceiling, until, stream }: Attempt): Promise<Response> {
    const url = `${this.server}${path}`;
    const controller = new AbortController();
    const timeoutMs = until == null ? ceiling : Math.max(0, Math.min(ceiling, until - Date.now()));
    const timer = setTimeout(() => controller.abort(new ApiError(`${this.server} gave no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        body,
        headers: {
          "user-agent": "hashscan-cli",
          ...(this.connection.token ? { authorization: `Bearer ${this.connection.token}` } : {}),
          ...headers,
        },
        signal: controller.signal,
        // Followed, a redirect would resend the list, and the token, wherever it points: said instead.
        redirect: "manual",
      });
      if (!stream || !response.ok) {
        // The body is read under the same timeout; a streamed one is read by its consumer, as fast as it writes (a
        // refusal's is read here: it is only ever a message).
        const bytes = await this.readCapped(response);
        response = new Response(NULL_BODY_STATUSES.has(response.status) ? null : bytes, response);
      }
    } catch (error) {
      throw error instanceof ApiError ? error : this.unreachable(error, controller.signal.reason);
    } finally {
      clearTimeout(timer);
    }
    if (stream && response.ok && response.body) return new Response(this.stallGuarded(response.body, controller, timeoutMs), response);
    if (response.ok || response.status === 304) return response;
    const location = response.headers.get("location");
    if (response.status >= 300 && response.status < 400 && location) {
      const target = URL.canParse(location, url) ? new URL(location, url).origin : "an address that is not a URL";
      throw new ApiError(`${this.server} redirects to ${target}: pass that as --server`, response.status);
    }
    throw await this.refusal(response);
  }

  /**
   * A streamed body whose request is given up once the server sends nothing for `idleMs` while more is wanted (a
   * stalled server, a connection gone half-open, held the client for ever). Only waits for the server count: a
   * slow reader (stdout piped into a pager) is not the server stalling.
   */
  private stallGuarded(body: ReadableStream<Uint8Array>, controller: AbortController, idleMs: number): ReadableStream<Uint8Array> {
    const reader = body.getReader();
    const stalled = () => new ApiError(`${this.server} stopped sending the answer for ${idleMs / 1000} s`);
    return new ReadableStream<Uint8Array>(
      {
        pull: async (out) => {
          const timer = setTimeout(() => controller.abort(stalled()), idleMs);
          try {
            const { done, value } = await reader.read();
            if (done) out.close();
            else out.enqueue(value);
          } catch (error) {
            throw controller.signal.reason instanceof ApiError ? controller.signal.reason : error;
          } finally {
            clearTimeout(timer);
          }
        },
        cancel: (reason) => reader.cancel(reason),
      },
      { highWaterMark: 0 },
    );
  }

  /** The answer's bytes, refused past MAX_ANSWER_BYTES: declared, or as they arrive (not transient: never sent again). */
  private async readCapped(response: Response): Promise<Uint8Array<ArrayBuffer>> {
    const tooLarge = () => new ApiError(`${this.server}'s answer is larger than ${MAX_ANSWER_BYTES / 1024 / 1024} MB: is it a Hashscan server?`, response.status);
    if (Number(response.headers.get("content-length")) > MAX_ANSWER_BYTES) {
      await response.body?.cancel().catch(() => {});
      throw tooLarge();
    }
    if (!response.body) return new Uint8Array();
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_ANSWER_BYTES) {
        await reader.cancel().catch(() => {});
        throw tooLarge();
      }
      chunks.push(value);
    }
    return new Uint8Array(Buffer.concat(chunks));
  }

  private unreachable(error: unknown, abortReason: unknown): ApiError {
    if (abortReason instanceof ApiError) return abortReason;
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const why = NETWORK_ERRORS[cause?.code ?? ""] ?? cause?.message ?? (error as Error).message;
    return new ApiError(`cannot reach ${this.server}: ${why}`);
  }

  private async refusal(response: Response): Promise<ApiError> {
    const retryAfterHeader = response.headers.get("retry-after");
    const retryAfter = retryAfterHeader === null ? NaN : Number(retryAfterHeader);
    const text = await response.text().catch(() => "");
    let envelope: z.infer<typeof errorEnvelopeSchema> | null = null;
    try {
      envelope = errorEnvelopeSchema.parse(JSON.parse(text));
    } catch {
      // Not the API's own error: a proxy's page, say.
    }
    const { status } = response;
    // The server's words, shown on one line without control characters (a CR could rewrite what came before); its
    // line breaks (zod's prettified issues have them) as spaces.
    const words = (text: string) => {
      const line = text.replace(/\s*[\r\n]+\s*/g, " ");
      return cell(line.length > MAX_MESSAGE_CHARS ? `${line.slice(0, MAX_MESSAGE_CHARS - 1)}…` : line);
    };
    let message = envelope
      ? `${this.server} refused (${status} ${words(envelope.error.code)}): ${words(envelope.error.message)}`
      : `${this.server} answered HTTP ${status}${response.statusText ? ` ${words(response.statusText)}` : ""}`;
    if (status === 401) message += " (pass --token, or set HASHSCAN_TOKEN)";
    return new ApiError(message, status, envelope ? words(envelope.error.code) : null, Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : null);
  }

  private async read<T>(response: Response, schema: z.ZodType<T>): Promise<T> {
    let json: unknown;
    try {
      json = await response.json();
    } catch {
      throw new ApiError(`${this.server} answered with something that is not JSON: is it a Hashscan server?`, response.status);
    }
    const parsed = schema.safeParse(json);
    if (parsed.success) return parsed.data;
    throw new ApiError(
      `${this.server}'s answer is not what this client expects (is the server another version?):\n${z.prettifyError(parsed.error)}`,
      response.status,
    );
  }
}

const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "the connection was reset",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host not found (DNS lookup failed)",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
  UND_ERR_CONNECT_TIMEOUT: "connection timed out",
  UND_ERR_SOCKET: "the connection was closed",
};
