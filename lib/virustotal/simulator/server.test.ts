import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { simulatedOutcome, type SimulatedOutcome } from "./reports";
import { createSimulator, type Simulator, type SimulatorOptions } from "./server";

const KEY = { "x-apikey": "test-key" };

interface Running {
  simulator: Simulator;
  base: string;
  get(path: string, headers?: Record<string, string>): Promise<Response>;
}

async function start(options: SimulatorOptions = {}): Promise<Running> {
  const simulator = createSimulator(options);
  const base = `http://127.0.0.1:${await simulator.listen(0)}`;
  return { simulator, base, get: (path, headers = KEY) => fetch(`${base}${path}`, { headers }) };
}

/** The first of a run of generated hashes whose outcome passes the test. */
function hashWith(length: 32 | 40 | 64, test: (outcome: SimulatedOutcome) => boolean, salt = ""): string {
  const algorithm = length === 32 ? "md5" : length === 40 ? "sha1" : "sha256";
  for (let i = 0; ; i++) {
    const hash = createHash(algorithm).update(`server-test-${salt}${i}`).digest("hex");
    if (test(simulatedOutcome(hash))) return hash;
  }
}
const found = (o: SimulatedOutcome) => o.kind === "found" && o.transientFailures === 0;

const fixtureRows = readFileSync(new URL("../../../tests/fixtures/samples/fixture-hashes.csv", import.meta.url), "utf8")
  .trim().split("\n").slice(1).map((line) => line.split(","));
const fixtureBody = (sha256: string) =>
  readFileSync(new URL(`../../../tests/fixtures/vt/${sha256}.json`, import.meta.url), "utf8");

describe("simulator over HTTP", () => {
  let vt: Running;
  beforeAll(async () => {
    vt = await start();
  });
  afterAll(() => vt.simulator.close());
  beforeEach(() => vt.simulator.reset());

  it.each(fixtureRows)("serves the real report for fixture %s under each of its names", async (md5, sha1, sha256) => {
    const expected = fixtureBody(sha256!);
    for (const name of [md5!, sha1!, sha256!, sha256!.toUpperCase()]) {
      const res = await vt.get(`/api/v3/files/${name}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("application/json");
      expect(await res.text()).toBe(expected);
    }
  });

  it("answers every name of a synthetic file with the same body", async () => {
    const md5 = hashWith(32, found);
    const first = await vt.get(`/api/v3/files/${md5}`);
    expect(first.status).toBe(200);
    const body = await first.text();
    const { data } = JSON.parse(body);
    expect(data.id).toBe(data.attributes.sha256);
    expect(data.attributes.md5).toBe(md5);
    for (const name of [data.attributes.sha1, data.attributes.sha256, md5.toUpperCase()]) {
      const again = await vt.get(`/api/v3/files/${name}`);
      expect(again.status).toBe(200);
      expect(await again.text()).toBe(body);
    }
    // Which names belong to which file lasts for the life of the process, across reset().
    vt.simulator.reset();
    expect(await (await vt.get(`/api/v3/files/${data.attributes.sha256}`)).text()).toBe(body);
  });

  it("reports stats that count the results' categories", async () => {
    const hash = hashWith(64, (o) => found(o) && o.kind === "found" && o.profile === "malicious");
    const { data } = await (await vt.get(`/api/v3/files/${hash}`)).json();
    const results = Object.values(data.attributes.last_analysis_results) as { category: string; result: string | null }[];
    for (const [category, count] of Object.entries(data.attributes.last_analysis_stats)) {
      expect(results.filter((r) => r.category === category).length).toBe(count);
    }
    expect(data.attributes.last_analysis_stats.malicious).toBeGreaterThan(4);
    for (const r of results) expect(r.result === null).toBe(r.category !== "malicious" && r.category !== "suspicious");
  });

  it("401s without a key or with a key starting with wrong", async () => {
    const hash = hashWith(32, found);
    for (const headers of [{}, { "x-apikey": "wrong-key" }] as Record<string, string>[]) {
      const res = await vt.get(`/api/v3/files/${hash}`, headers);
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: { code: "WrongCredentialsError", message: "Wrong API key" } });
    }
  });

  it("400s a hash that is not 32, 40 or 64 hex digits", async () => {
    for (const hash of ["xyz", "0123456789abcdef", `${"g".repeat(32)}`, `${"a".repeat(33)}`]) {
      const res = await vt.get(`/api/v3/files/${hash}`);
      expect(res.status).toBe(400);
      expect((await res.json()).error.code).toBe("InvalidArgumentError");
    }
  });

  it("404s hashes starting with dead, like VirusTotal", async () => {
    const hash = `dead${"0".repeat(60)}`;
    const res = await vt.get(`/api/v3/files/${hash}`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: "NotFoundError", message: `File "${hash}" not found` } });
  });

  it("404s the hashes simulatedOutcome says are not found", async () => {
    const hash = hashWith(40, (o) => o.kind === "not-found");
    expect((await vt.get(`/api/v3/files/${hash}`)).status).toBe(404);
  });

  it("always 503s a 5030 hash, with Retry-After", async () => {
    const hash = `5030${"a".repeat(28)}`;
    for (let i = 0; i < 3; i++) {
      const res = await vt.get(`/api/v3/files/${hash}`);
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("1");
      expect((await res.json()).error.code).toBe("TransientError");
    }
  });

  it("503s a 503d hash d times, then answers the report", async () => {
    const hash = `5032${"b".repeat(60)}`;
    const statuses = [];
    for (let i = 0; i < 4; i++) {
      const res = await vt.get(`/api/v3/files/${hash}`);
      statuses.push(res.status);
      if (res.status === 503) expect(res.headers.get("retry-after")).toBe("1");
      else expect((await res.json()).data.id).toBe(hash);
    }
    expect(statuses).toEqual([503, 503, 200, 200]);
    vt.simulator.reset();
    expect((await vt.get(`/api/v3/files/${hash}`)).status).toBe(503);
  });

  it("answers a bad0 hash with a truncated body", async () => {
    const res = await vt.get(`/api/v3/files/bad0${"c".repeat(28)}`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.startsWith('{"data":')).toBe(true);
    expect(() => JSON.parse(text)).toThrow();
  });

  it("logs every /api/v3 request with its status, never the key, and resets", async () => {
    const hash = hashWith(32, found);
    await vt.get(`/api/v3/files/${hash}`);
    await vt.get(`/api/v3/files/${hash}`, {});
    await vt.get("/api/v3/users/test-key/overall_quotas");
    await vt.get("/api/v3/nothing-here");
    await vt.get("/_simulator/health");

    const { requests } = await (await fetch(`${vt.base}/_simulator/requests`)).json();
    expect(requests).toEqual(vt.simulator.requests());
    expect(requests.map((r: { path: string; hash: string | null; status: number; apiKey: boolean }) =>
      [r.path, r.hash, r.status, r.apiKey])).toEqual([
      [`/api/v3/files/${hash}`, hash, 200, true],
      [`/api/v3/files/${hash}`, hash, 401, false],
      ["/api/v3/users/{id}/overall_quotas", null, 200, true],
      ["/api/v3/nothing-here", null, 404, true],
    ]);
    expect(JSON.stringify(requests)).not.toContain("test-key");
    expect(requests[0]).toMatchObject({ method: "GET", at: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/) });

    const cleared = await fetch(`${vt.base}/_simulator/requests`, { method: "DELETE" });
    expect(cleared.status).toBe(200);
    expect(await (await fetch(`${vt.base}/_simulator/requests`)).json()).toEqual({ requests: [] });
  });

  it("answers health, and 404s unknown paths with VirusTotal's error shape", async () => {
    expect(await (await fetch(`${vt.base}/_simulator/health`)).json()).toEqual({ ok: true });
    for (const path of ["/", "/api/v3/files", "/_simulator/nope"]) {
      const res = await fetch(`${vt.base}${path}`, { headers: KEY });
      expect(res.status).toBe(404);
      expect((await res.json()).error.code).toBe("NotFoundError");
    }
  });
});

describe("simulator determinism", () => {
  it("gives the same report for the same hash in two fresh simulators", async () => {
    const [a, b] = [await start(), await start()];
    try {
      for (const hash of [hashWith(32, found), hashWith(40, found), hashWith(64, found)]) {
        const [x, y] = await Promise.all([a.get(`/api/v3/files/${hash}`), b.get(`/api/v3/files/${hash}`)]);
        expect(x.status).toBe(200);
        expect(await x.text()).toBe(await y.text());
      }
    } finally {
      await Promise.all([a.simulator.close(), b.simulator.close()]);
    }
  });
});

describe("simulator limits", () => {
  let clock = 0;
  let vt: Running | undefined;
  const hash = hashWith(32, found, "limits");
  const status = async (headers = KEY) => (await vt!.get(`/api/v3/files/${hash}`, headers)).status;
  afterEach(() => vt?.simulator.close());

  it("429s over the per-minute limit in a sliding window, then recovers", async () => {
    clock = Date.UTC(2025, 5, 1, 12, 0, 0);
    vt = await start({ requestsPerMinute: 3, now: () => clock });
    expect([await status(), await status()]).toEqual([200, 200]);
    clock += 30_000;
    expect(await status()).toBe(200);
    const res = await vt.get(`/api/v3/files/${hash}`);
    expect(res.status).toBe(429);
    expect(await res.json()).toEqual({ error: { code: "QuotaExceededError", message: "Quota exceeded" } });
    // Requests without a valid key do not count and are not limited.
    expect(await status({ "x-apikey": "wrong" })).toBe(401);

    clock += 30_001; // the first two have left the window, the third has not
    expect([await status(), await status(), await status()]).toEqual([200, 200, 429]);
    clock += 60_000;
    expect(await status()).toBe(200);
  });

  it("429s over the per-day limit until the next UTC day, and reports quotas", async () => {
    clock = Date.UTC(2025, 5, 1, 23, 59, 0);
    vt = await start({ requestsPerDay: 2, now: () => clock });
    expect([await status(), await status(), await status()]).toEqual([200, 200, 429]);
    const quotas = await (await vt.get("/api/v3/users/me/overall_quotas")).json();
    expect(quotas.data.api_requests_daily).toEqual({ user: { used: 2, allowed: 2 } });
    expect(quotas.data.api_requests_hourly.user.allowed).toBe(1_000_000_000);
    expect(quotas.data.api_requests_monthly).toEqual({ user: { used: 2, allowed: 62 } });

    clock = Date.UTC(2025, 5, 2, 0, 0, 1);
    expect(await status()).toBe(200);
    vt.simulator.reset();
    expect([await status(), await status()]).toEqual([200, 200]);
  });
});

describe("simulator latency", () => {
  it("delays each answer by about latencyMs", async () => {
    const vt = await start({ latencyMs: 100 });
    try {
      const started = performance.now();
      expect((await vt.get(`/api/v3/files/dead${"0".repeat(28)}`)).status).toBe(404);
      expect(performance.now() - started).toBeGreaterThanOrEqual(75);
    } finally {
      await vt.simulator.close();
    }
  });
});
