import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ENGINES } from "./engines";
import { ANALYSIS_EPOCH, CATEGORIES, simulatedNames, simulatedOutcome, simulatedReport } from "./reports";

const hashes = (count: number, algorithm: "md5" | "sha1" | "sha256" = "sha256") =>
  Array.from({ length: count }, (_, i) => createHash(algorithm).update(`reports-test-${i}`).digest("hex"));

describe("simulatedOutcome", () => {
  it("applies the documented prefix rules", () => {
    expect(simulatedOutcome("not-a-hash")).toEqual({ kind: "invalid" });
    expect(simulatedOutcome("abc123")).toEqual({ kind: "invalid" });
    expect(simulatedOutcome(`dead${"0".repeat(28)}`)).toEqual({ kind: "not-found" });
    expect(simulatedOutcome(`DEAD${"0".repeat(60)}`)).toEqual({ kind: "not-found" });
    expect(simulatedOutcome(`5030${"a".repeat(28)}`)).toEqual({ kind: "unavailable" });
    expect(simulatedOutcome(`bad0${"1".repeat(36)}`)).toEqual({ kind: "malformed" });
    expect(simulatedOutcome(`5033${"a".repeat(28)}`)).toMatchObject({ kind: "found", transientFailures: 3 });
  });

  it("finds about 90% of other hashes, with a mix of malicious, low and clean", () => {
    const outcomes = hashes(2000, "md5").map(simulatedOutcome);
    const notFound = outcomes.filter((o) => o.kind === "not-found").length / outcomes.length;
    expect(notFound).toBeGreaterThan(0.07);
    expect(notFound).toBeLessThan(0.13);
    const profiles = new Set(outcomes.flatMap((o) => (o.kind === "found" ? [o.profile] : [])));
    expect(profiles).toEqual(new Set(["malicious", "low", "clean"]));
  });

  it("describes the report it stands for", () => {
    for (const hash of hashes(200)) {
      const outcome = simulatedOutcome(hash);
      if (outcome.kind !== "found") continue;
      const { last_analysis_stats: stats, last_analysis_results: results } = simulatedReport(hash).data.attributes;
      expect(outcome.malicious).toBe(stats.malicious);
      expect(outcome.suspicious).toBe(stats.suspicious);
      const detections = stats.malicious + stats.suspicious;
      expect(outcome.profile).toBe(detections === 0 ? "clean" : detections <= 4 ? "low" : "malicious");
      const fortinet = results.Fortinet;
      expect(outcome.fortinet).toBe(!fortinet ? "absent" : fortinet.result ? "detected" : "undetected");
    }
  });
});

describe("simulatedNames", () => {
  it("keeps the asked name and derives the other two, lower case", () => {
    const md5 = "0123456789ABCDEF0123456789ABCDEF";
    const names = simulatedNames(md5);
    expect(names.md5).toBe(md5.toLowerCase());
    expect(names.sha1).toMatch(/^[0-9a-f]{40}$/);
    expect(names.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(simulatedNames(md5)).toEqual(names);
    expect(simulatedNames(names.sha256).sha256).toBe(names.sha256);
  });
});

describe("simulatedReport", () => {
  it("is the same every time for the same hash, whatever its case", () => {
    const [hash] = hashes(1);
    expect(JSON.stringify(simulatedReport(hash!))).toBe(JSON.stringify(simulatedReport(hash!.toUpperCase())));
  });

  it("has the shape of a real report, stats counted from the results", () => {
    for (const hash of hashes(300, "sha1")) {
      const { data } = simulatedReport(hash);
      const a = data.attributes;
      expect(data).toMatchObject({ id: a.sha256, type: "file", links: { self: expect.stringMatching(/\/api\/v3\/files\/[0-9a-f]{64}$/) } });
      expect(a.sha1).toBe(hash);
      expect(Object.keys(a.last_analysis_stats).sort()).toEqual([...CATEGORIES].sort());
      const results = Object.values(a.last_analysis_results);
      expect(results.length).toBeGreaterThanOrEqual(ENGINES.length - 1);
      for (const category of CATEGORIES) {
        expect(a.last_analysis_stats[category]).toBe(results.filter((r) => r.category === category).length);
      }
      for (const r of results) {
        const detected = r.category === "malicious" || r.category === "suspicious";
        expect(r.result === null).toBe(!detected);
        expect(r.engine_update).toMatch(/^\d{8}$/);
      }
      expect(a.last_analysis_date).toBeLessThan(ANALYSIS_EPOCH);
      expect(a.last_analysis_date).toBeGreaterThanOrEqual(ANALYSIS_EPOCH - 2 * 365 * 86_400);
      expect(a.names).toContain(a.meaningful_name);
      expect(typeof a.size).toBe("number");
      expect(typeof a.type_description).toBe("string");
    }
  });

  it("includes Fortinet in about 95% of reports, with Fortinet-style names when it detects", () => {
    const reports = hashes(2000).map((h) => simulatedReport(h).data.attributes.last_analysis_results);
    const absent = reports.filter((r) => !r.Fortinet).length / reports.length;
    expect(absent).toBeGreaterThan(0.03);
    expect(absent).toBeLessThan(0.07);
    const fortinet = reports.flatMap((r) => (r.Fortinet ? [r.Fortinet] : []));
    const detected = fortinet.filter((f) => f.category === "malicious");
    expect(detected.length).toBeGreaterThan(100);
    for (const f of detected) expect(f.result).toMatch(/^[A-Za-z0-9]+\/[A-Za-z0-9_]+\.[A-Z0-9]+!(tr|exploit)$/);
    for (const f of fortinet.filter((f) => f.category !== "malicious")) expect(f.result).toBeNull();
  });
});
