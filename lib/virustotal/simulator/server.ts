// The bundled stand-in for VirusTotal API v3: real reports for the fixture files, deterministic synthetic ones otherwise.
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { loadFixtureReports } from "./fixtures";
import { createQuota } from "./quota";
import { simulatedNames, simulatedOutcome, simulatedReport } from "./reports";

export interface SimulatorOptions {
  /** Delay before each /api/v3 answer, with ±20% jitter. Default 0. */
  latencyMs?: number;
  /** 0 (the default) turns a limit off. */
  requestsPerMinute?: number;
  requestsPerDay?: number;
  /** The clock for the request log and the limits, in ms, so tests can move time. */
  now?: () => number;
  /** The Retry-After every 503 carries, in seconds. Default 1. */
  retryAfterSeconds?: number;
}

export interface SimulatorRequest {
  at: string;
  method: string;
  path: string;
  hash: string | null;
  status: number;
  /** Whether a key was sent; the key itself is never kept. */
  apiKey: boolean;
}

export interface Simulator {
  /** Resolves the bound port; 0 picks a free one. */
  listen(port?: number, host?: string): Promise<number>;
  close(): Promise<void>;
  requests(): SimulatorRequest[];
  /** Clears the request log, the per-hash 503 counters and the limits' counts (not which names belong to which file). */
  reset(): void;
}

interface Answer {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

const json = (status: number, value: unknown, headers?: Record<string, string>): Answer =>
  ({ status, body: JSON.stringify(value), headers });
const vtError = (status: number, code: string, message: string, headers?: Record<string, string>) =>
  json(status, { error: { code, message } }, headers);

const WRONG_KEY = vtError(401, "WrongCredentialsError", "Wrong API key");
const QUOTA_EXCEEDED = vtError(429, "QuotaExceededError", "Quota exceeded");
const transient = (retryAfterSeconds: number) =>
  vtError(503, "TransientError", "Transient error, please retry", { "retry-after": String(retryAfterSeconds) });
const NO_ROUTE = vtError(404, "NotFoundError", "Resource not found");
/** What overall_quotas reports as `allowed` for a limit that is off. */
const UNLIMITED = 1_000_000_000;

const FILES = /^\/api\/v3\/files\/([^/]*)$/;
const QUOTAS = /^\/api\/v3\/users\/[^/]+\/overall_quotas$/;

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export function createSimulator(options: SimulatorOptions = {}): Simulator {
  const now = options.now ?? Date.now;
  const latencyMs = options.latencyMs ?? 0;
  const perMinute = options.requestsPerMinute ?? 0;
  const perDay = options.requestsPerDay ?? 0;
  const quota = createQuota({ requestsPerMinute: perMinute, requestsPerDay: perDay });
  const TRANSIENT = transient(options.retryAfterSeconds ?? 1);
  const fixtures = loadFixtureReports();
  /** Every name a synthetic file has answered to → the name it was first asked by, which seeds its report. */
  const firstNames = new Map<string, string>();
  /** Requests seen per `503d…` hash. */
  const attempts = new Map<string, number>();
  const pending = new Set<NodeJS.Timeout>();
  let log: SimulatorRequest[] = [];

  function answerFile(asked: string): Answer {
    const hash = asked.toLowerCase();
    const fixture = fixtures.get(hash);
    if (fixture) return { status: 200, body: fixture };
    // Another name of a file already answered; a file's own first name goes through the rules again, so that a
    // `503d…` hash fails d times again after reset().
    const first = firstNames.get(hash);
    if (first && first !== hash) return json(200, simulatedReport(first));

    const outcome = simulatedOutcome(hash);
    switch (outcome.kind) {
      case "invalid":
        return vtError(400, "InvalidArgumentError", `Invalid file hash "${asked}": expected an MD5, SHA-1 or SHA-256`);
      case "not-found":
        return vtError(404, "NotFoundError", `File "${asked}" not found`);
      case "unavailable":
        return TRANSIENT;
      case "malformed": {
        const full = JSON.stringify(simulatedReport(hash));
        return { status: 200, body: full.slice(0, Math.floor(full.length / 2)) };
      }
      case "found": {
        const seen = (attempts.get(hash) ?? 0) + 1;
        attempts.set(hash, seen);
        if (seen <= outcome.transientFailures) return TRANSIENT;
        for (const name of Object.values(simulatedNames(hash))) {
          if (!fixtures.has(name) && !firstNames.has(name)) firstNames.set(name, hash);
        }
        return json(200, simulatedReport(hash));
      }
    }
  }

  function answerQuotas(): Answer {
    const used = quota.usage(now());
    const entry = (count: number, allowed: number) => ({ user: { used: count, allowed: allowed > 0 ? allowed : UNLIMITED } });
    return json(200, {
      data: {
        api_requests_hourly: entry(used.hourly, perMinute * 60),
        api_requests_daily: entry(used.daily, perDay),
        api_requests_monthly: entry(used.monthly, perDay * 31),
      },
    });
  }

  function answerApi(method: string, path: string, apiKey: string | undefined): Answer {
    if (!apiKey || apiKey.startsWith("wrong")) return WRONG_KEY;
    const file = method === "GET" ? FILES.exec(path) : null;
    if (file) return quota.tryConsume(now()) ? answerFile(decode(file[1]!)) : QUOTA_EXCEEDED;
    if (method === "GET" && QUOTAS.test(path)) return answerQuotas();
    return NO_ROUTE;
  }

  function answerObservation(method: string, path: string): Answer {
    if (path === "/_simulator/health" && method === "GET") return json(200, { ok: true });
    if (path === "/_simulator/requests" && method === "GET") return json(200, { requests: log });
    if (path === "/_simulator/requests" && method === "DELETE") {
      simulator.reset();
      return json(200, { ok: true });
    }
    return NO_ROUTE;
  }

  function send(res: ServerResponse, answer: Answer) {
    res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
    res.end(answer.body);
  }

  const server = createServer((req, res) => {
    const method = req.method ?? "GET";
    const path = new URL(req.url ?? "/", "http://simulator").pathname;
    if (path !== "/api/v3" && !path.startsWith("/api/v3/")) {
      send(res, path.startsWith("/_simulator/") ? answerObservation(method, path) : NO_ROUTE);
      return;
    }

    const header = req.headers["x-apikey"];
    const apiKey = Array.isArray(header) ? header[0] : header;
    const answer = answerApi(method, path, apiKey);
    const file = FILES.exec(path);
    log.push({
      at: new Date(now()).toISOString(),
      method,
      // The quota path carries a user id or key, which the log must not keep.
      path: QUOTAS.test(path) ? "/api/v3/users/{id}/overall_quotas" : path,
      hash: file ? decode(file[1]!) : null,
      status: answer.status,
      apiKey: Boolean(apiKey),
    });

    if (latencyMs <= 0) return send(res, answer);
    const timer = setTimeout(() => {
      pending.delete(timer);
      send(res, answer);
    }, latencyMs * (0.8 + Math.random() * 0.4));
    pending.add(timer);
  });

  const simulator: Simulator = {
    listen(port = 0, host = "127.0.0.1") {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          resolve((server.address() as AddressInfo).port);
        });
      });
    },
    close() {
      for (const timer of pending) clearTimeout(timer);
      pending.clear();
      if (!server.listening) return Promise.resolve();
      return new Promise((resolve) => {
        server.close(() => resolve());
        // Keep-alive sockets (fetch keeps them) would otherwise hold close() open.
        server.closeAllConnections();
      });
    },
    requests: () => log.map((entry) => ({ ...entry })),
    reset() {
      log = [];
      attempts.clear();
      quota.reset();
    },
  };
  return simulator;
}
