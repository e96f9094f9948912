import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fileReportSchema } from "./report-schema";

const fixtures = new URL("../../tests/fixtures/vt/", import.meta.url);
const reportFiles = readdirSync(fixtures).filter((name) => /^[0-9a-f]{64}\.json$/.test(name));
const load = (name: string): unknown => JSON.parse(readFileSync(new URL(name, fixtures), "utf8"));

function minimal(attributes: Record<string, unknown> = {}) {
  return {
    data: {
      id: "a".repeat(64),
      attributes: { md5: "b".repeat(32), sha1: "c".repeat(40), sha256: "a".repeat(64), ...attributes },
    },
  };
}

const issuePaths = (value: unknown) =>
  fileReportSchema.safeParse(value).error?.issues.map((issue) => issue.path.join(".")) ?? [];

describe("fileReportSchema", () => {
  it.each(reportFiles)("accepts the real VirusTotal report %s", (name) => {
    const report = fileReportSchema.parse(load(name));
    expect(report.data.id).toBe(name.replace(".json", ""));
    expect(report.data.attributes.sha256).toBe(report.data.id);
  });

  it("keeps the keys it does not check, so the raw report loses nothing", () => {
    const report = fileReportSchema.parse(load(reportFiles[0]));
    expect(report.data.attributes).toHaveProperty("names");
    expect(report.data).toHaveProperty("links");
  });

  it("lower-cases the three hashes", () => {
    const report = fileReportSchema.parse(
      minimal({ md5: "AB".repeat(16), sha1: "CD".repeat(20), sha256: "EF".repeat(32) }),
    );
    expect(report.data.attributes).toMatchObject({ md5: "ab".repeat(16), sha1: "cd".repeat(20), sha256: "ef".repeat(32) });
  });

  it("accepts a report with no analysis yet", () => {
    expect(fileReportSchema.safeParse(minimal()).success).toBe(true);
  });

  it.each([
    ["md5 too short", minimal({ md5: "b".repeat(31) }), "data.attributes.md5"],
    ["sha1 not hex", minimal({ sha1: "z".repeat(40) }), "data.attributes.sha1"],
    ["sha256 missing", { data: { id: "x", attributes: { md5: "b".repeat(32), sha1: "c".repeat(40) } } }, "data.attributes.sha256"],
    ["id missing", { data: { attributes: minimal().data.attributes } }, "data.id"],
    ["negative count", minimal({ last_analysis_stats: { malicious: -1 } }), "data.attributes.last_analysis_stats.malicious"],
    ["fractional count", minimal({ last_analysis_stats: { undetected: 2.5 } }), "data.attributes.last_analysis_stats.undetected"],
    [
      "engine without category",
      minimal({ last_analysis_results: { Fortinet: { result: null } } }),
      "data.attributes.last_analysis_results.Fortinet.category",
    ],
    [
      "engine result a number",
      minimal({ last_analysis_results: { Fortinet: { category: "malicious", result: 1 } } }),
      "data.attributes.last_analysis_results.Fortinet.result",
    ],
    ["an error body", { error: { code: "NotFoundError", message: "not found" } }, "data"],
  ])("rejects %s, naming the path", (_, value, path) => {
    expect(issuePaths(value)).toContain(path);
  });

  it.each([
    ["a string", "2020-04-10"],
    ["a fraction", 1.5],
    ["negative", -1],
    ["past 2^53", 2 ** 53],
    ["too large for a double (1e400 in the body)", Infinity],
  ])("reads a date that is %s as no date, keeping the rest of the report", (_, date) => {
    const report = fileReportSchema.parse(minimal({ last_analysis_date: date }));
    expect(report.data.attributes.last_analysis_date).toBeUndefined();
    expect(report.data.attributes.md5).toBe(minimal().data.attributes.md5);
  });

  it("accepts stats with missing and unknown keys", () => {
    const report = fileReportSchema.parse(minimal({ last_analysis_stats: { malicious: 3, "new-category": 1 } }));
    expect(report.data.attributes.last_analysis_stats).toEqual({ malicious: 3, "new-category": 1 });
  });

  it("counts a name or type that is not a string as absent, not as a malformed report", () => {
    const report = fileReportSchema.parse(minimal({ meaningful_name: 7, type_description: ["Win32 EXE"] }));
    expect(report.data.attributes).toMatchObject({ meaningful_name: null, type_description: null });
    expect(fileReportSchema.parse(minimal()).data.attributes).not.toHaveProperty("meaningful_name");
  });
});
