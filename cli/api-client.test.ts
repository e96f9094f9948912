// The client's side of the HTTP exchange, against a stand-in server that answers what each test scripts: which
// requests are sent again, with which key, and how a refusal reads. The real server is the e2e suite's (cli.spec.ts).
import { createServer, type IncomingMessage, type Server } from "node:http";
import { Readable, Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { HashscanApi } from "./api-client";
import { ApiError } from "./errors";
import { ProgressReporter } from "./progress";
import { run } from "./run";
import { waitForJob } from "./wait";

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}
type Answer = { status: number; body?: unknown; headers?: Record<string, string> };

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/**
 * A server that answers the scripted answers in turn (the last one again once they run out), and the client pointed at
 * it, waiting for nothing between tries. `answers` can depend on the server's origin, known once it listens.
 */
async function scripted(answers: Answer[] | ((origin: string) => Answer[]), token: string | null = null) {
  const seen: Seen[] = [];
  const slept: number[] = [];
  let script: Answer[] = [];
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      seen.push({ method: request.method!, url: request.url!, headers: request.headers, body: Buffer.concat(chunks).toString() });
      const answer = script[Math.min(seen.length - 1, script.length - 1)];
      const html = typeof answer.body === "string";
      response.writeHead(answer.status, { "content-type": html ? "text/html" : "application/json", ...answer.headers });
      response.end(answer.body === undefined ? "" : html ? answer.body : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  script = typeof answers === "function" ? answers(origin) : answers;
  const api = new HashscanApi({ server: origin, token }, async (ms) => void slept.push(ms));
  return { api, seen, slept, origin };
}

const ID = "AbCdEfGhIjKlMnOpQrSt_-";
const created = (origin: string) => ({
  id: ID,
  url: `${origin}/jobs/${ID}`,
  statusUrl: `${origin}/api/jobs/${ID}`,
  accepted: 1,
  duplicates: 0,
  invalid: [],
  invalidCount: 0,
  manageToken: "m".repeat(43),
});
const list = new TextEncoder().encode("b214da9f6b0d6e6de5090b3f9672defe\n");
const unavailable = { status: 503, body: { error: { code: "unavailable", message: "The database is unavailable; try again shortly." } }, headers: { "retry-after": "3" } };

describe("HashscanApi.createJob", () => {
  it("sends the list as text with the name, a bearer token and an Idempotency-Key, and the same key again after a 503", async () => {
    const { api, seen, slept, origin } = await scripted((at) => [unavailable, unavailable, { status: 201, body: created(at) }], "secret-token-0123456789");
    const body = created(origin);
    expect(await api.createJob(list, "triage 7")).toEqual(body);
    expect(seen).toHaveLength(3);
    for (const request of seen) {
      expect(request).toMatchObject({ method: "POST", url: "/api/jobs?name=triage%207", body: "b214da9f6b0d6e6de5090b3f9672defe\n" });
      expect(request.headers).toMatchObject({ "content-type": "text/plain", authorization: "Bearer secret-token-0123456789" });
    }
    const keys = new Set(seen.map((request) => request.headers["idempotency-key"]));
    expect(keys.size).toBe(1);
    expect([...keys][0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // The server's Retry-After, not the client's own delays.
    expect(slept).toEqual([3000, 3000]);
  });

  it("gives up after three tries, with the server's own words", async () => {
    const { api, seen, slept } = await scripted([unavailable]);
    const error = await api.createJob(list, null).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 503, code: "unavailable", message: expect.stringMatching(/refused \(503 unavailable\): The database is unavailable; try again shortly\.$/) });
    expect(seen).toHaveLength(3);
    expect(slept).toHaveLength(2);
  });

  it("never asks again after a refusal that would only be refused again", async () => {
    const { api, seen } = await scripted([
      { status: 401, body: { error: { code: "unauthorized", message: "This API needs a token." } } },
    ]);
    const error = (await api.createJob(list, null).catch((e: unknown) => e)) as ApiError;
    expect(error.message).toMatch(/refused \(401 unauthorized\): This API needs a token\. \(pass --token, or set HASHSCAN_TOKEN\)$/);
    expect(seen).toHaveLength(1);
  });
});

describe("HashscanApi reads", () => {
  it("says when an answer is not the API's: a proxy's error page, JSON of another shape", async () => {
    const { api, seen, slept } = await scripted([{ status: 502, body: "<html>Bad Gateway</html>" }]);
    expect(await api.status().catch((e: Error) => e.message)).toMatch(/answered HTTP 502 Bad Gateway$/);
    expect(seen).toHaveLength(3);
    expect(slept).toEqual([1000, 2000]);

    const other = await scripted([{ status: 200, body: { hello: "world" } }]);
    expect(await other.api.status().catch((e: Error) => e.message)).toMatch(/answer is not what this client expects/);
  });

  it("follows no redirect, and says where it points", async () => {
    const { api, seen } = await scripted([{ status: 301, headers: { location: "https://hashscan.example/api/status" } }]);
    expect(await api.status().catch((e: Error) => e.message)).toMatch(/ redirects to https:\/\/hashscan\.example: pass that as --server$/);
    expect(seen).toHaveLength(1);
  });

  it("revalidates a report with If-None-Match and reads a 304 as unchanged", async () => {
    const { api, seen } = await scripted([{ status: 304, headers: { etag: 'W/"7"' } }]);
    expect(await api.report(ID, { limit: "1" }, 'W/"7"')).toBeNull();
    expect(seen[0]).toMatchObject({ url: `/api/jobs/${ID}?limit=1`, headers: { "if-none-match": 'W/"7"' } });
    expect(seen[0].headers.authorization).toBeUndefined();
  });
});

describe("HashscanApi against a hostile server", () => {
  it("stops reading an answer past its size limit instead of holding it all", async () => {
    // An answer that never ends: before the limit, the client read it until its 60 s timeout, holding every byte.
    server = createServer((_request, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      const more = () => {
        while (response.write(chunk)) if (response.destroyed) return;
        response.once("drain", more);
      };
      response.on("close", () => response.removeAllListeners("drain"));
      more();
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const api = new HashscanApi({ server: `http://127.0.0.1:${(server.address() as { port: number }).port}`, token: null }, async () => {});
    const error = (await api.status().catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.message).toMatch(/answer is larger than \d+ MB/);
    expect(error.transient).toBe(false);
    server.closeAllConnections();
  }, 20_000);

  it("refuses an answer declared larger than the limit before reading it", async () => {
    const { api, seen } = await scripted([{ status: 201, body: {}, headers: { "content-length": String(2 ** 40) } }]);
    const error = (await api.createJob(list, null).catch((e: unknown) => e)) as ApiError;
    expect(error.message).toMatch(/answer is larger than \d+ MB/);
    expect(seen).toHaveLength(1); // not taken for "no answer": the list is not sent again
    server!.closeAllConnections();
  });

  it("takes no job id, URL or manage token that would drive a terminal", async () => {
    for (const change of [{ id: "\u001b]0;owned\u0007AbCdEfGhIjKlMn" }, { url: "http://x.test/jobs/\u001b[2J" }, { manageToken: "m\r\u001b[31m" }, { statusUrl: "http://x.test/\u202e" }]) {
      const { api } = await scripted((at) => [{ status: 201, body: { ...created(at), ...change } }]);
      const error = (await api.createJob(list, null).catch((e: unknown) => e)) as ApiError;
      expect(error, JSON.stringify(change)).toBeInstanceOf(ApiError);
      expect(error.message).toMatch(/not what this client expects/);
    }
  });

  it("shows a refusal's words without control characters, and not at any length", async () => {
    const { api } = await scripted([{ status: 400, body: { error: { code: "bad\u001b[0m", message: `fine\rhashscan: all good \u202e${"x".repeat(100_000)}` } } }]);
    const error = (await api.status().catch((e: unknown) => e)) as ApiError;
    expect(error.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/);
    expect(error.message.length).toBeLessThan(2000);

    const prettified = await scripted([{ status: 400, body: { error: { code: "invalid_parameter", message: "✖ Too long\n  → at name" } } }]);
    expect(await prettified.api.status().catch((e: Error) => e.message)).toMatch(/refused \(400 invalid_parameter\): ✖ Too long → at name$/);
  });

  it("says a redirect to an address that is no URL as such, not as an unexpected error", async () => {
    const { api } = await scripted([{ status: 302, headers: { location: "http://[::1" } }]);
    const error = await api.status().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).message).toMatch(/redirects/);
  });

  it("reads a 204 as an answer that is not the API's, not as no answer to send again", async () => {
    const { api, seen } = await scripted([{ status: 204 }]);
    const error = (await api.createJob(list, null).catch((e: unknown) => e)) as ApiError;
    expect(error.message).toMatch(/not JSON/);
    expect(seen).toHaveLength(1);
  });
});

describe("HashscanApi.exportBody", () => {
  it("gives up an export whose server stops sending, instead of waiting for ever", async () => {
    server = createServer((_request, response) => {
      response.writeHead(200, { "content-type": "text/csv" });
      response.write("hash,status\r\n"); // and nothing more, the connection left open
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const api = new HashscanApi({ server: `http://127.0.0.1:${(server.address() as { port: number }).port}`, token: null }, async () => {}, 300);
    const body = await api.exportBody(ID, "csv");
    const error = await new Response(body).text().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).message).toMatch(/stopped sending the answer for 0\.3 s/);
    server.closeAllConnections();
  });

  it("streams an export that keeps coming, however slowly it is read", async () => {
    server = createServer((_request, response) => {
      response.writeHead(200, { "content-type": "text/csv" });
      response.end("hash,status\r\nb214da9f6b0d6e6de5090b3f9672defe,completed\r\n");
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const api = new HashscanApi({ server: `http://127.0.0.1:${(server.address() as { port: number }).port}`, token: null }, async () => {}, 200);
    const reader = (await api.exportBody(ID, "csv")).getReader();
    await new Promise((resolve) => setTimeout(resolve, 500)); // a reader slower than the timeout
    let text = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value);
    expect(text).toBe("hash,status\r\nb214da9f6b0d6e6de5090b3f9672defe,completed\r\n");
  });
});

describe("waiting with a deadline", () => {
  it("gives up a poll at the deadline once it has a report: a server that stops answering holds --timeout no longer", async () => {
    const pending = {
      id: ID, name: null, createdAt: "2026-03-01T10:00:00.000Z", status: "running", source: "simulator",
      counts: { total: 2, pending: 1, completed: 1, notFound: 0, failed: 0, cancelled: 0 }, duplicates: 0, invalidCount: 0,
      pause: null, estimatedCompletion: null, estimateIsLowerBound: false, results: [], nextCursor: null, changeCursor: "c",
      moreChanges: false,
    };
    let polls = 0;
    // The first poll answered, every later one taken and never answered.
    server = createServer((_request, response) => {
      if (polls++ === 0) response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(pending));
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const api = new HashscanApi({ server: `http://127.0.0.1:${(server.address() as { port: number }).port}`, token: null });
    const started = Date.now();
    const progress = new ProgressReporter({ write: () => true });
    const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.min(ms, 50)));
    // A deadline the first poll meets even on a busy machine; the second, never answered, is cut off at it.
    const last = await waitForJob(api, ID, { deadline: started + 2000, progress, sleep });
    expect(last.counts.pending).toBe(1);
    expect(polls).toBeGreaterThan(1);
    // Before, the poll past the first waited out its 60 s timeout, and two more tries.
    expect(Date.now() - started).toBeLessThan(10_000);
    server.closeAllConnections();
  }, 20_000);
});

describe("hashscan submit --format json", () => {
  it("prints the answer with C1 controls and bidi overrides escaped, the same JSON value", async () => {
    const invalid = [{ line: 2, value: "x\u009b2J\u202eevil", reason: "no MD5, SHA-1 or SHA-256 found" }];
    const { origin } = await scripted((at) => [{ status: 201, body: { ...created(at), invalid, invalidCount: 1 } }]);
    let stdout = "";
    const io = {
      stdout: Object.assign(new Writable({ write: (chunk, _encoding, done) => ((stdout += chunk), done()) }), { isTTY: true }),
      stderr: new Writable({ write: (_chunk, _encoding, done) => done() }),
      stdin: Readable.from([Buffer.from("b214da9f6b0d6e6de5090b3f9672defe\nx\n")]),
      env: {},
    };
    expect(await run(["submit", "-", "--format", "json", "--server", origin], io)).toBe(0);
    expect(stdout).not.toMatch(/[\u007f-\u009f\u202a-\u202e]/);
    expect(JSON.parse(stdout).invalid).toEqual(invalid);
  });
});
