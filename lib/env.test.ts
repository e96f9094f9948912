import { describe, expect, it } from "vitest";
import { parseEnv } from "./env";

describe("env", () => {
  it("uses the simulator with quick limits when no key is set (an empty string counts as unset)", () => {
    const e = parseEnv({ VT_API_KEY: "", SIMULATOR_PORT: "4999" });
    expect(e.vt).toMatchObject({
      source: "simulator",
      apiUrl: "http://127.0.0.1:4999/api/v3",
      requestsPerMinute: 60,
      requestsPerDay: 100_000,
    });
    expect(e.databaseUrl).toBeUndefined();
  });

  it("uses VirusTotal with a free key's limits when a key is set", () => {
    const e = parseEnv({ VT_API_KEY: "k".repeat(64) });
    expect(e.vt).toMatchObject({
      source: "virustotal",
      apiUrl: "https://www.virustotal.com/api/v3",
      requestsPerMinute: 4,
      requestsPerDay: 500,
      requestsPerMonth: 15_500,
      quotaRetrySeconds: 86_400,
    });
    expect(e.cacheTtlHours).toBe(24);
    expect(e.port).toBe(3000);
  });

  it("fails with a message naming the variable", () => {
    expect(() => parseEnv({ VT_REQUESTS_PER_MINUTE: "lots" })).toThrow(/VT_REQUESTS_PER_MINUTE/);
    expect(() => parseEnv({ PUBLIC_URL: "not a url" })).toThrow(/PUBLIC_URL/);
    expect(() => parseEnv({ LOOKUP_MAX_ATTEMPTS: "0" })).toThrow(/LOOKUP_MAX_ATTEMPTS/);
    expect(() => parseEnv({ VT_RATE_WINDOW_SECONDS: "300" })).toThrow(/VT_RATE_WINDOW_SECONDS must be at most 299/);
    expect(parseEnv({ VT_RATE_WINDOW_SECONDS: "299" }).vt.windowSeconds).toBe(299);
  });

  it("sends a real key over https only, or over plain http to this machine", () => {
    const key = "k".repeat(64);
    expect(() => parseEnv({ VT_API_KEY: key, VT_API_URL: "http://vt-proxy.example/api/v3" })).toThrow(/VT_API_URL must be https/);
    expect(() => parseEnv({ VT_API_KEY: key, VT_API_URL: "ftp://vt.example/api/v3" })).toThrow(/VT_API_URL must be https/);
    for (const url of ["https://vt-proxy.example/api/v3", "http://127.0.0.1:4010/api/v3", "http://localhost/api/v3", "http://[::1]:80/api/v3"]) {
      expect(parseEnv({ VT_API_KEY: key, VT_API_URL: url }).vt.apiUrl).toBe(url);
    }
    // The simulator, with no key, needs none.
    expect(parseEnv({ SIMULATOR_URL: "http://simulator:4010/api/v3" }).vt.apiUrl).toBe("http://simulator:4010/api/v3");
  });
});
