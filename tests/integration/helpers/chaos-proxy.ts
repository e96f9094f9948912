// A misbehaving VirusTotal for fault tests: an HTTP proxy in front of the simulator that spoils some answers to
// file lookups (5xx, answers slower than any timeout, connections reset mid-answer, a 200 with truncated JSON).
// Which answer is spoiled, and how, is decided from the hash and how many times it was asked, never by chance:
// the same worker behaviour meets the same faults on every run.
import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

export type Fault =
  /** The simulator's answer, as it gave it. */
  | "none"
  /** A 5xx instead of the answer: VirusTotal's own 503, a gateway's HTML 502, a bare 504, a 500 in VirusTotal's shape. */
  | "server_error"
  /** No answer until the client gives up: nothing at all, or the headers and half the body. */
  | "slow"
  /** The connection reset (TCP RST): before the headers, or halfway through the body. */
  | "reset"
  /** A well-framed 200 whose body is the first half of the JSON. */
  | "truncated";

export interface FaultRates {
  server_error: number;
  slow: number;
  reset: number;
  truncated: number;
}

export interface FaultPlan {
  fault: Fault;
  /** Which form the fault takes (e.g. "503" or "mid-body"). */
  variant: string;
}

export interface ChaosRequest {
  hash: string;
  /** 1 for the first request for this hash, 2 for the second… */
  n: number;
  fault: Fault;
  variant: string;
  /** The simulator's status for the request (every request is passed on, whatever reaches the client). */
  upstreamStatus: number;
  /** The client closed the connection before the proxy had anything to send: it was given no answer. */
  clientLeft?: boolean;
  /** For a slow answer: how long after the request arrived the client closed the connection. */
  abandonedAfterMs?: number;
  /** For a slow answer: the client never gave up, and the proxy cut the connection itself. */
  heldTooLong?: boolean;
}

export interface ChaosProxy {
  apiUrl: string;
  /** Every file lookup that reached the proxy, in arrival order. */
  requests(): ChaosRequest[];
  close(): Promise<void>;
}

const SERVER_ERRORS = ["503", "502", "504", "500"] as const;

/**
 * Rates are fractions of requests (the rest go through untouched), applied to a number drawn from
 * sha256(seed:hash:n): deterministic per hash and attempt, and spread like chance across many of them.
 */
export function seededFaults(seed: string, rates: FaultRates): (hash: string, n: number) => FaultPlan {
  return (hash, n) => {
    const digest = createHash("sha256").update(`${seed}:${hash.toLowerCase()}:${n}`).digest();
    let draw = digest.readUInt32BE(0) / 2 ** 32;
    const pick = digest[4]!;
    for (const fault of ["server_error", "slow", "reset", "truncated"] as const) {
      if (draw < rates[fault]) {
        const variant =
          fault === "server_error" ? SERVER_ERRORS[pick % SERVER_ERRORS.length]! : fault === "truncated" ? "half" : pick % 2 ? "mid-body" : "before-headers";
        return { fault, variant };
      }
      draw -= rates[fault];
    }
    return { fault: "none", variant: "" };
  };
}

const FILES = /^\/api\/v3\/files\/([^/?]*)/;

/**
 * `upstream` is the simulator's origin (http://127.0.0.1:port). A slow answer is held until the client closes the
 * connection, or `maxHoldMs`, whichever comes first: it never arrives in time, however busy the machine.
 */
export async function startChaosProxy(options: {
  upstream: string;
  plan: (hash: string, n: number) => FaultPlan;
  maxHoldMs?: number;
}): Promise<ChaosProxy> {
  const maxHoldMs = options.maxHoldMs ?? 30_000;
  const log: ChaosRequest[] = [];
  const asked = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();

  const server = http.createServer(async (req, res) => {
    const arrived = Date.now();
    const path = req.url ?? "/";
    const file = FILES.exec(path);
    // Numbered, and its fault decided, as it arrives: in the order the client asked.
    let entry: ChaosRequest | undefined;
    if (file) {
      const hash = decodeURIComponent(file[1]!).toLowerCase();
      const n = (asked.get(hash) ?? 0) + 1;
      asked.set(hash, n);
      entry = { hash, n, ...options.plan(hash, n), upstreamStatus: 0 };
      log.push(entry);
    }
    const key = req.headers["x-apikey"];
    let upstream: Response;
    let body: string;
    try {
      upstream = await fetch(`${options.upstream}${path}`, { headers: typeof key === "string" ? { "x-apikey": key } : {} });
      body = await upstream.text();
    } catch {
      res.writeHead(599).end();
      return;
    }
    const headers: Record<string, string> = { "content-type": upstream.headers.get("content-type") ?? "application/json" };
    const retryAfter = upstream.headers.get("retry-after");
    if (retryAfter) headers["retry-after"] = retryAfter;
    if (!entry) {
      res.writeHead(upstream.status, headers).end(body);
      return;
    }
    entry.upstreamStatus = upstream.status;
    if (req.socket.destroyed) {
      // The client gave up while the simulator answered (a very busy machine): it was given nothing.
      entry.clientLeft = true;
      return;
    }
    const { fault, variant } = entry;
    const half = Buffer.from(body).subarray(0, Math.floor(Buffer.byteLength(body) / 2));

    switch (fault) {
      case "none":
        res.writeHead(upstream.status, headers).end(body);
        return;
      case "server_error":
        return sendServerError(res, variant);
      case "truncated":
        // Framed correctly (its own Content-Length): only the JSON is broken, not the HTTP.
        res.writeHead(200, { "content-type": "application/json", "content-length": String(half.length) }).end(half);
        return;
      case "reset":
        if (variant === "mid-body") {
          res.writeHead(upstream.status, { ...headers, "content-length": String(Buffer.byteLength(body)) });
          res.write(half);
          // After the half is on its way: the client sees the headers, part of the body, then ECONNRESET.
          return later(() => req.socket.resetAndDestroy(), 50);
        }
        req.socket.resetAndDestroy();
        return;
      case "slow": {
        if (variant === "mid-body") {
          res.writeHead(upstream.status, { ...headers, "content-length": String(Buffer.byteLength(body)) });
          res.write(half);
        }
        const timer = later(() => {
          entry.heldTooLong = true;
          req.socket.destroy();
        }, maxHoldMs);
        res.once("close", () => {
          clearTimeout(timer);
          timers.delete(timer);
          entry.abandonedAfterMs ??= Date.now() - arrived;
        });
        return;
      }
    }
  });

  function later(action: () => void, ms: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      timers.delete(timer);
      action();
    }, ms);
    timers.add(timer);
    return timer;
  }

  server.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    apiUrl: `http://127.0.0.1:${port}/api/v3`,
    requests: () => log.map((entry) => ({ ...entry })),
    close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      return new Promise((resolve) => {
        server.close(() => resolve());
        // Held answers and keep-alive sockets would otherwise hold close() open.
        server.closeAllConnections();
      });
    },
  };
}

function sendServerError(res: http.ServerResponse, variant: string) {
  switch (variant) {
    case "503":
      res
        .writeHead(503, { "content-type": "application/json", "retry-after": "1" })
        .end(JSON.stringify({ error: { code: "TransientError", message: "Transient error, please retry" } }));
      return;
    case "502":
      res.writeHead(502, { "content-type": "text/html" }).end("<html><body><h1>502 Bad Gateway</h1></body></html>");
      return;
    case "504":
      res.writeHead(504).end();
      return;
    default:
      res
        .writeHead(500, { "content-type": "application/json" })
        .end(JSON.stringify({ error: { code: "InternalError", message: "Internal server error" } }));
  }
}
