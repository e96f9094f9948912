// The HTTP client for VirusTotal API v3: one request per lookup, every failure turned into a VirusTotalError.
import { z } from "zod";
import { classifyHttpError, MalformedResponseError, TransientError, VirusTotalError } from "./errors";
import { fileReportSchema } from "./report-schema";
import { sanitizeJson } from "./sanitize";
import { summarizeReport, type ReportSummary } from "./summary";

export interface VirusTotalClientOptions {
  /** E.g. "https://www.virustotal.com/api/v3" or the simulator's URL. */
  apiUrl: string;
  apiKey: string;
  timeoutMs: number;
  fetch?: typeof fetch;
}

export interface FileLookup {
  /**
   * The full parsed JSON body, stored so a later feature never spends a request again; sanitized (see
   * sanitize.ts) so that PostgreSQL's jsonb always accepts it.
   */
  raw: unknown;
  summary: ReportSummary;
}

export interface QuotaUse {
  used: number;
  allowed: number;
}

/** The key's request quotas as VirusTotal counts them; null where the answer did not say. */
export interface Quotas {
  hourly: QuotaUse | null;
  daily: QuotaUse | null;
  monthly: QuotaUse | null;
}

export interface VirusTotalClient {
  getFile(hash: string): Promise<FileLookup>;
  /** `GET /users/{key}/overall_quotas`: spends no lookup quota; tells which quota a 429 hit. */
  getQuotas(): Promise<Quotas>;
}

const quotaUseSchema = z
  .object({ user: z.object({ used: z.number().int().nonnegative(), allowed: z.number().int().nonnegative() }) })
  .transform((q) => q.user)
  .nullable()
  .catch(null);

const quotasSchema = z.object({
  data: z.object({
    api_requests_hourly: quotaUseSchema.optional().default(null),
    api_requests_daily: quotaUseSchema.optional().default(null),
    api_requests_monthly: quotaUseSchema.optional().default(null),
  }),
});

const MIN_REDACTED_KEY_LENGTH = 16;

/** The largest answer read: VirusTotal's biggest file reports are a few MB; past this, the body is not read on. */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/**
 * VT_API_URL as fetch is given it: without the credentials it may hold (a proxy's user and password), which
 * travel as a Basic Authorization header instead (fetch refuses a URL that holds them) and never reach a log.
 */
export function splitCredentials(apiUrl: string): { url: string; authorization?: string } {
  const url = new URL(apiUrl);
  if (!url.username && !url.password) return { url: url.href.replace(/\/+$/, "") };
  const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  url.username = "";
  url.password = "";
  return { url: url.href.replace(/\/+$/, ""), authorization: `Basic ${Buffer.from(credentials).toString("base64")}` };
}

export function createVirusTotalClient(options: VirusTotalClientOptions): VirusTotalClient {
  const { apiKey, timeoutMs } = options;
  const fetchImpl = options.fetch ?? fetch;
  // A bad URL is a configuration mistake, so it throws here rather than looking like a VirusTotal outage later.
  const { url: base, authorization } = splitCredentials(options.apiUrl);
  const headers = { "x-apikey": apiKey, accept: "application/json", ...(authorization ? { authorization } : {}) };

  /** GET a path; a non-2xx answer becomes its VirusTotalError, a 2xx one its status and JSON body (if any). */
  async function get(path: string): Promise<{ status: number; body: ReturnType<typeof parseJson> }> {
    let response: Response;
    let text: string;
    try {
      // A redirect is not followed: the key header would go wherever it points.
      response = await fetchImpl(`${base}${path}`, { headers, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
      if (response.status >= 300 && response.status < 400) {
        await response.body?.cancel().catch(() => {});
        throw new MalformedResponseError(
          `VirusTotal answered HTTP ${response.status}, a redirect; it is not followed, so the key never goes to another host (check VT_API_URL)`,
          { status: response.status },
        );
      }
      text = await readCapped(response);
    } catch (error) {
      if (error instanceof VirusTotalError) throw error;
      throw networkError(error, timeoutMs);
    }
    const body = parseJson(text);
    if (!response.ok) throw classifyHttpError(response.status, body.ok ? body.value : text, response.headers);
    return { status: response.status, body };
  }

  async function lookup(hash: string): Promise<FileLookup> {
    const { status, body } = await get(`/files/${encodeURIComponent(hash)}`);
    if (!body.ok) {
      throw new MalformedResponseError(`VirusTotal answered HTTP ${status} with a body that is not JSON`, { status });
    }
    const parsed = fileReportSchema.safeParse(body.value);
    if (!parsed.success) {
      const problems = describeIssues(parsed.error);
      throw new MalformedResponseError(`VirusTotal's report does not have the expected shape (${problems})`, {
        status,
        cause: parsed.error,
      });
    }
    const summary = summarizeReport(parsed.data);
    const asked = hash.toLowerCase();
    if (asked !== summary.md5 && asked !== summary.sha1 && asked !== summary.sha256) {
      throw new MalformedResponseError(
        `VirusTotal answered with the report of another file (asked ${asked}, got ${summary.sha256})`,
        { status },
      );
    }
    return { raw: body.value, summary };
  }

  async function quotas(): Promise<Quotas> {
    const { body } = await get(`/users/${encodeURIComponent(apiKey)}/overall_quotas`);
    const parsed = body.ok ? quotasSchema.safeParse(body.value) : null;
    if (!parsed?.success) throw new MalformedResponseError("VirusTotal's quota answer does not have the expected shape");
    const { api_requests_hourly: hourly, api_requests_daily: daily, api_requests_monthly: monthly } = parsed.data.data;
    return { hourly, daily, monthly };
  }

  return {
    getQuotas: () => redacting(quotas()),
    getFile: (hash) => redacting(lookup(hash)),
  };

  async function redacting<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (error) {
      // Belt and braces: nothing VirusTotal or the network says should put the key in a stored message.
      // Real keys are 64 characters; redacting a short stand-in (the simulator's) would only garble words.
      if (error instanceof VirusTotalError && apiKey.length >= MIN_REDACTED_KEY_LENGTH) {
        error.message = error.message.replaceAll(apiKey, "[API key]");
      }
      throw error;
    }
  }
}

/** The body as text, refused (and no longer read) once it passes MAX_RESPONSE_BYTES. */
async function readCapped(response: Response): Promise<string> {
  const declared = Number(response.headers.get("content-length"));
  const tooLarge = () =>
    new MalformedResponseError(`VirusTotal's answer is larger than ${MAX_RESPONSE_BYTES / 1024 / 1024} MB; it was not read`, { status: response.status });
  if (declared > MAX_RESPONSE_BYTES) {
    await response.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  if (!response.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  // Leaving the loop by a throw cancels the body: nothing more is read.
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > MAX_RESPONSE_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

/** Sanitized as soon as parsed: the report, its summary and error messages all end up in the database. */
function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false };
  }
  return { ok: true, value: sanitizeJson(value) };
}

function describeIssues(error: z.ZodError): string {
  const shown = error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "body"}: ${issue.message}`);
  const more = error.issues.length > shown.length ? `; and ${error.issues.length - shown.length} more` : "";
  return shown.join("; ") + more;
}

function networkError(error: unknown, timeoutMs: number): TransientError {
  if (error instanceof Error && error.name === "TimeoutError") {
    return new TransientError(`VirusTotal did not answer within ${formatDuration(timeoutMs)}`, { cause: error });
  }
  return new TransientError(`VirusTotal could not be reached (${describeNetworkError(error)})`, {
    cause: error,
  });
}

// What a network error is called where viewers see it (a failed task's reason): the kind only. The error's own
// text ("connect ECONNREFUSED 10.0.0.5:443") names internal addresses; it stays in the cause, for the logs.
const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "name lookup failed",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  EPIPE: "connection closed",
  UND_ERR_SOCKET: "connection closed",
  UND_ERR_CONNECT_TIMEOUT: "connection timed out",
  CERT_HAS_EXPIRED: "TLS certificate expired",
  DEPTH_ZERO_SELF_SIGNED_CERT: "TLS certificate not trusted",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "TLS certificate not trusted",
};

/** fetch says only "fetch failed"; the kind (ECONNREFUSED, ENOTFOUND…) is the code of its cause. */
function describeNetworkError(error: unknown): string {
  const inner = error instanceof Error && error.cause !== undefined ? error.cause : error;
  const code = (inner as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return "network error";
  return Object.hasOwn(NETWORK_ERRORS, code) ? `${NETWORK_ERRORS[code]}, ${code}` : `network error, ${code.slice(0, 40).replace(/[^\w-]/g, "")}`;
}

function formatDuration(ms: number): string {
  return ms >= 1000 ? `${Number((ms / 1000).toFixed(1))} s` : `${ms} ms`;
}
