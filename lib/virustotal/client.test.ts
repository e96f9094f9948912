import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { readdirSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createVirusTotalClient, MAX_RESPONSE_BYTES, splitCredentials, type VirusTotalClientOptions } from "./client";
import {
  BadKeyError,
  MalformedResponseError,
  NotFoundError,
  QuotaExceededError,
  RequestRejectedError,
  TransientError,
  type VirusTotalError,
} from "./errors";

// A real HTTP server on a free port, serving the real VirusTotal bodies: no fetch mocks.

const API_KEY = "test-key-0123456789abcdef";
const fixtures = new URL("../../tests/fixtures/vt/", import.meta.url);
const read = (name: string) => readFileSync(new URL(name, fixtures), "utf8");

const reportsByHash = new Map<string, string>();
for (const name of readdirSync(fixtures).filter((n) => /^[0-9a-f]{64}\.json$/.test(n))) {
  const body = read(name);
  const { md5, sha1, sha256 } = JSON.parse(body).data.attributes;
  for (const hash of [md5, sha1, sha256]) reportsByHash.set(hash, body);
}
const MALICIOUS = "001015aafcae8a6942366cbb0e7d39c0738752a7800c41ea1c655d47b0a4d04c";
const MALICIOUS_MD5 = "b214da9f6b0d6e6de5090b3f9672defe";
const UNKNOWN = "e".repeat(64);

// A real report carrying what PostgreSQL refuses, as VirusTotal would send it: the escapes \u0000 (in a value
// and a key) and lone surrogates, and a last_analysis_date of 1e15 seconds (an Invalid Date in milliseconds).
const DIRTY = "d1".repeat(32);
const DIRTY_BODY = (() => {
  const report = JSON.parse(reportsByHash.get(MALICIOUS)!);
  report.data.id = DIRTY;
  Object.assign(report.data.attributes, {
    sha256: DIRTY,
    last_analysis_date: 1e15,
    meaningful_name: "evil\u0000.doc",
    "key\u0000": "\ud800",
  });
  report.data.attributes.last_analysis_results.Fortinet.result = "WM/Moat\udc00!tr";
  return JSON.stringify(report);
})();

type Handler = (res: import("node:http").ServerResponse, headers: IncomingHttpHeaders) => void;
const json = (status: number, body: string, extra: Record<string, string> = {}): Handler => (res) => {
  res.writeHead(status, { "content-type": "application/json", ...extra });
  res.end(body);
};
const vtError = (code: string, message: string) => JSON.stringify({ error: { code, message } });

/** Special hashes the server answers in a particular way; any other hash is looked up in the fixtures. */
const scenarios: Record<string, Handler> = {
  quota: json(429, vtError("QuotaExceededError", "Quota exceeded")),
  "rate-limit": json(429, vtError("TooManyRequestsError", "Too many requests")),
  unavailable: json(503, vtError("TransientError", "Try again later"), { "retry-after": "7" }),
  "unavailable-until": (res) =>
    json(503, vtError("TransientError", "Try again later"), {
      "retry-after": new Date(Date.now() + 60_000).toUTCString(),
    })(res, {}),
  "bad-gateway": (res) => {
    res.writeHead(502, { "content-type": "text/html" });
    res.end("<html><body><h1>502 Bad Gateway</h1></body></html>");
  },
  invalid: json(400, vtError("InvalidArgumentError", "Invalid file hash")),
  "echo-key": (res, headers) => json(400, vtError("BadRequestError", `key ${headers["x-apikey"]} is odd`))(res, headers),
  "broken-json": json(200, '{"data": {"id": '),
  "empty-body": json(200, ""),
  "bad-shape": json(200, JSON.stringify({ data: { id: "x", attributes: { md5: "nothex", sha1: "c".repeat(40) } } })),
  [UNKNOWN]: json(200, reportsByHash.get(MALICIOUS)!), // the report of another file
  [DIRTY]: json(200, DIRTY_BODY),
  slow: (res) => {
    const timer = setTimeout(() => json(200, reportsByHash.get(MALICIOUS)!)(res, {}), 2_000);
    res.on("close", () => clearTimeout(timer));
  },
  redirect: (res) => {
    res.writeHead(302, { location: `http://127.0.0.1:${redirectTargetPort}/api/v3/files/${MALICIOUS}` });
    res.end();
  },
  huge: (res) => {
    // More than the cap, sent without a length: the client must stop reading, not buffer it all.
    res.writeHead(200, { "content-type": "application/json" });
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    let sent = 0;
    const pump = () => {
      while (sent < 40) {
        sent++;
        if (!res.write(chunk)) return void res.once("drain", pump);
      }
      res.end();
    };
    res.on("close", () => (hugeStoppedAt = sent));
    pump();
  },
  "slow-body": (res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.write('{"data": ');
    const timer = setTimeout(() => res.end("null}"), 2_000);
    res.on("close", () => clearTimeout(timer));
  },
};

let server: Server;
let redirectTarget: Server;
let redirectTargetPort = 0;
let redirectTargetHits: IncomingHttpHeaders[] = [];
let hugeStoppedAt = 0;
let apiUrl: string;
let refusedUrl: string;
let lastRequest: { url?: string; method?: string; headers: IncomingHttpHeaders } | undefined;

beforeAll(async () => {
  server = createServer((req, res) => {
    lastRequest = { url: req.url, method: req.method, headers: req.headers };
    if (req.headers["x-apikey"] !== API_KEY) return json(401, read("wrong_key.json"))(res, req.headers);
    const match = /^\/api\/v3\/files\/([^/]+)$/.exec(req.url ?? "");
    const hash = decodeURIComponent(match?.[1] ?? "");
    const scenario = Object.hasOwn(scenarios, hash) ? scenarios[hash] : undefined;
    if (scenario) return scenario(res, req.headers);
    const report = reportsByHash.get(hash.toLowerCase());
    if (report) return json(200, report)(res, req.headers);
    json(404, read("not_found.json"))(res, req.headers);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v3`;

  // Where the redirect points: it must never be asked.
  redirectTarget = createServer((req, res) => {
    redirectTargetHits.push(req.headers);
    json(200, reportsByHash.get(MALICIOUS)!)(res, req.headers);
  });
  await new Promise<void>((resolve) => redirectTarget.listen(0, "127.0.0.1", resolve));
  redirectTargetPort = (redirectTarget.address() as AddressInfo).port;

  // A port that was just free: nothing listens on it, so connecting is refused.
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
  refusedUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/api/v3`;
  await new Promise((resolve) => closed.close(resolve));
});

afterAll(async () => {
  for (const s of [server, redirectTarget]) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

beforeEach(() => {
  lastRequest = undefined;
});

const client = (options: Partial<VirusTotalClientOptions> = {}) =>
  createVirusTotalClient({ apiUrl, apiKey: API_KEY, timeoutMs: 5_000, ...options });

async function failure(hash: string, options: Partial<VirusTotalClientOptions> = {}): Promise<VirusTotalError> {
  const error = await client(options).getFile(hash).then(
    () => expect.fail(`expected ${hash} to fail`),
    (e: unknown) => e,
  );
  const key = options.apiKey ?? API_KEY;
  if (key.length >= 16) expect((error as Error).message).not.toContain(key);
  return error as VirusTotalError;
}

describe("getFile", () => {
  it("fetches, checks and summarizes a report, keeping the raw body", async () => {
    const lookup = await client().getFile(MALICIOUS);
    expect(lookup.summary).toMatchObject({
      sha256: MALICIOUS,
      md5: MALICIOUS_MD5,
      fortinet: "WM/Moat.81C2F10E!tr",
      fortinetCategory: "malicious",
      detected: 53,
      engines: 62,
      scanDate: new Date(1586546645 * 1000),
      meaningfulName: "cDCUTY.tmp",
      fileType: "MS Word Document",
    });
    expect(lookup.raw).toEqual(JSON.parse(reportsByHash.get(MALICIOUS)!));
  });

  it("makes a report PostgreSQL would refuse storable, without a scan date for an absurd one", async () => {
    expect(DIRTY_BODY).toContain("\\u0000");
    expect(DIRTY_BODY).toContain("\\ud800");
    const lookup = await client().getFile(DIRTY);
    expect(lookup.summary).toMatchObject({
      sha256: DIRTY,
      detected: 53,
      scanDate: null,
      fortinet: "WM/Moat\uFFFD!tr",
      meaningfulName: "evil\uFFFD.doc",
    });
    const attributes = (lookup.raw as { data: { attributes: Record<string, unknown> } }).data.attributes;
    expect(attributes).toMatchObject({ "key\uFFFD": "\uFFFD", meaningful_name: "evil\uFFFD.doc", last_analysis_date: 1e15 });
    expect(JSON.stringify(lookup.raw)).not.toMatch(/\\u0000|\\ud[89a-f][0-9a-f]{2}/i);
  });

  it("sends the key and asks for JSON", async () => {
    await client({ apiUrl: `${apiUrl}/` }).getFile(MALICIOUS);
    expect(lastRequest).toMatchObject({
      method: "GET",
      url: `/api/v3/files/${MALICIOUS}`,
      headers: { "x-apikey": API_KEY, accept: "application/json" },
    });
  });

  it("accepts a report asked by MD5 or SHA-1, in any case", async () => {
    expect((await client().getFile(MALICIOUS_MD5.toUpperCase())).summary.sha256).toBe(MALICIOUS);
    expect((await client().getFile("b7162dfcbcac2724c71c03385abe577e1ab0cd8d")).summary.sha256).toBe(MALICIOUS);
  });

  it("uses the fetch it is given", async () => {
    const seen: string[] = [];
    const recording: typeof fetch = (input, init) => {
      seen.push(String(input));
      return fetch(input, init);
    };
    await client({ fetch: recording }).getFile(MALICIOUS);
    expect(seen).toEqual([`${apiUrl}/files/${MALICIOUS}`]);
  });

  it("sends credentials in VT_API_URL (a proxy's) as a Basic header, never in the address", async () => {
    const withCredentials = apiUrl.replace("http://", "http://proxy%20user:p%40ss@");
    await client({ apiUrl: withCredentials }).getFile(MALICIOUS);
    expect(lastRequest?.headers.authorization).toBe(`Basic ${Buffer.from("proxy user:p@ss").toString("base64")}`);
    expect(lastRequest?.url).toBe(`/api/v3/files/${MALICIOUS}`);
    expect(splitCredentials(withCredentials).url).toBe(apiUrl);
  });

  it("rejects a bad API URL when the client is made, not at the first lookup", () => {
    expect(() => client({ apiUrl: "not a url" })).toThrow();
  });
});

describe("getFile failures", () => {
  it("reports an unknown file as NotFoundError", async () => {
    const error = await failure("d".repeat(64));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ status: 404, code: "NotFoundError" });
  });

  it("reports a wrong key as BadKeyError without repeating the key", async () => {
    const error = await failure(MALICIOUS, { apiKey: "wrong-key-fedcba9876543210" });
    expect(error).toBeInstanceOf(BadKeyError);
    expect(error.message).toBe("VirusTotal rejected the API key (WrongCredentialsError: Wrong API key)");
  });

  it("tells quota from per-minute rate limit", async () => {
    expect(await failure("quota")).toMatchObject({ kind: "quota", code: "QuotaExceededError" });
    const rate = await failure("rate-limit");
    expect(rate).toBeInstanceOf(QuotaExceededError);
    expect(rate.code).toBe("TooManyRequestsError");
  });

  it("reads Retry-After in seconds", async () => {
    const error = await failure("unavailable");
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ status: 503, retryAfterSeconds: 7 });
  });

  it("reads Retry-After as an HTTP date", async () => {
    const error = (await failure("unavailable-until")) as TransientError;
    expect(error.retryAfterSeconds).toBeGreaterThanOrEqual(55);
    expect(error.retryAfterSeconds).toBeLessThanOrEqual(61);
  });

  it("treats a proxy's HTML error page as transient", async () => {
    const error = await failure("bad-gateway");
    expect(error).toBeInstanceOf(TransientError);
    expect(error.message).toBe("VirusTotal is temporarily unavailable (HTTP 502)");
  });

  it("treats an invalid request as permanent", async () => {
    const error = await failure("invalid");
    expect(error).toBeInstanceOf(RequestRejectedError);
    expect(error.kind).toBe("malformed");
  });

  it("never lets the key into a message, even when VirusTotal echoes it", async () => {
    const error = await failure("echo-key");
    expect(error.message).toBe("VirusTotal rejected the request (BadRequestError: key [API key] is odd)");
  });

  it("reports a body that is not JSON as MalformedResponseError", async () => {
    for (const hash of ["broken-json", "empty-body"]) {
      const error = await failure(hash);
      expect(error).toBeInstanceOf(MalformedResponseError);
      expect(error.message).toBe("VirusTotal answered HTTP 200 with a body that is not JSON");
    }
  });

  it("names what is wrong in a report of the wrong shape", async () => {
    const error = await failure("bad-shape");
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.message).toMatch(/^VirusTotal's report does not have the expected shape \(/);
    expect(error.message).toContain("data.attributes.md5: md5 must be 32 hexadecimal digits");
    expect(error.message).toContain("data.attributes.sha256");
  });

  it("refuses the report of another file", async () => {
    const error = await failure(UNKNOWN);
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.message).toBe(`VirusTotal answered with the report of another file (asked ${UNKNOWN}, got ${MALICIOUS})`);
  });

  it("gives up after timeoutMs when VirusTotal does not answer", async () => {
    const started = Date.now();
    const error = await failure("slow", { timeoutMs: 100 });
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ status: null, code: null, retryAfterSeconds: null });
    expect(error.message).toBe("VirusTotal did not answer within 100 ms");
  });

  it("gives up after timeoutMs when the body stalls", async () => {
    const error = await failure("slow-body", { timeoutMs: 100 });
    expect(error).toBeInstanceOf(TransientError);
    expect(error.message).toBe("VirusTotal did not answer within 100 ms");
  });

  it("says the timeout in seconds when it is long", async () => {
    const error = await failure("slow", { timeoutMs: 1_000 });
    expect(error.message).toBe("VirusTotal did not answer within 1 s");
  });

  it("reports a refused connection as a transient network error", async () => {
    const error = await failure(MALICIOUS, { apiUrl: refusedUrl });
    expect(error).toBeInstanceOf(TransientError);
    // The kind, never the address it was refused at (internal addresses stay in the logs).
    expect(error.message).toBe("VirusTotal could not be reached (connection refused, ECONNREFUSED)");
  });

  it("does not follow a redirect, so the key never reaches another host", async () => {
    redirectTargetHits = [];
    const error = await failure("redirect");
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.message).toContain("HTTP 302, a redirect");
    expect(redirectTargetHits).toEqual([]);
  });

  it(`stops reading an answer past ${MAX_RESPONSE_BYTES / 1024 / 1024} MB`, async () => {
    const error = await failure("huge");
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error.message).toBe("VirusTotal's answer is larger than 16 MB; it was not read");
    await expect.poll(() => hugeStoppedAt, { timeout: 5_000 }).toBeGreaterThan(0);
    expect(hugeStoppedAt).toBeLessThan(40);
  });

  it("leaves a short stand-in key (the simulator's) out of redaction", async () => {
    const error = await failure(MALICIOUS, { apiUrl: refusedUrl, apiKey: "k" });
    expect(error.message).toContain("connection refused");
  });
});
