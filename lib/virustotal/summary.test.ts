import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fileReportSchema, type FileReport } from "./report-schema";
import { REPLACEMENT_CHARACTER as R } from "./sanitize";
import { MAX_SUMMARY_TEXT_LENGTH, summarizeReport } from "./summary";

const fixtures = new URL("../../tests/fixtures/vt/", import.meta.url);
const loadReport = (sha256: string): FileReport =>
  fileReportSchema.parse(JSON.parse(readFileSync(new URL(`${sha256}.json`, fixtures), "utf8")));

// Expected values from tests/fixtures/vt/README.md (VirusTotal's own page shows the same numbers); names and
// types as the reports' meaningful_name and type_description give them.
const cases = [
  ["001015aafcae8a6942366cbb0e7d39c0738752a7800c41ea1c655d47b0a4d04c", 53, 62, "WM/Moat.81C2F10E!tr", "malicious",
    "cDCUTY.tmp", "MS Word Document"],
  ["fff40032c3dc062147c530e3a0a5c7e6acda4d1f1369fbc994cddd3c19a2de88", 36, 62, null, "undetected",
    "fff40032c3dc062147c530e3a0a5c7e6acda4d1f1369fbc994cddd3c19a2de88.bin", "Rich Text Format"],
  ["417c06700c3e899f0554654102fa064385bf1d3ecec32471ac488096d81bf38c", 7, 72, null, "undetected",
    "source.exe", "Win32 EXE"],
  ["0001a1252300b4732e4a010a5dd13a291dcb8b0ebee6febedb5152dfb0bcd488", 0, 60, null, "undetected",
    "VirusShare_119aef5280f0d609dc5b30d454c1b94c", "DOS COM"],
  ["b8e7a581d85807ea6659ea2f681bd16d5baa7017ff144aa3030aefba9cbcdfd3", 0, 62, null, "undetected",
    "Doom", "Mach-O"],
  ["ddecc35aa198f401948c73a0d53fd93c4ecb770198ad7db308de026745c56b71", 0, 70, null, "undetected",
    "aclock-axp-win32.exe", "Win32 EXE"],
  ["de10ba5e5402b46ea975b5cb8a45eb7df9e81dc81012fd4efd145ed2dce3a740", 0, 61, null, "undetected",
    "elf_haiku_x86", "ELF"],
] as const;

function report(attributes: Record<string, unknown>): FileReport {
  return fileReportSchema.parse({
    data: {
      id: "a".repeat(64),
      attributes: { md5: "b".repeat(32), sha1: "c".repeat(40), sha256: "a".repeat(64), ...attributes },
    },
  });
}

describe("summarizeReport on real VirusTotal reports", () => {
  it.each(cases)("%s: %i of %i, Fortinet %s", (sha256, detected, engines, fortinet, fortinetCategory, name, type) => {
    const raw = loadReport(sha256);
    const summary = summarizeReport(raw);
    expect(summary).toMatchObject({ sha256, detected, engines, fortinet, fortinetCategory });
    expect(summary).toMatchObject({ meaningfulName: name, fileType: type });
    expect(summary.md5).toMatch(/^[0-9a-f]{32}$/);
    expect(summary.sha1).toMatch(/^[0-9a-f]{40}$/);
    expect(summary.scanDate).toEqual(new Date(raw.data.attributes.last_analysis_date! * 1000));
    // The original tool's bug: counting engine entries (75-76 here) instead of verdicts.
    expect(summary.engines).toBeLessThan(Object.keys(raw.data.attributes.last_analysis_results!).length);
  });

  it("reads the scan date as Unix seconds in UTC", () => {
    const summary = summarizeReport(loadReport(cases[0][0]));
    expect(summary.scanDate?.toISOString()).toBe("2020-04-10T19:24:05.000Z");
    expect(summary).toMatchObject({ md5: "b214da9f6b0d6e6de5090b3f9672defe", sha1: "b7162dfcbcac2724c71c03385abe577e1ab0cd8d" });
  });
});

describe("summarizeReport on incomplete reports", () => {
  it("counts missing stats keys as 0", () => {
    const summary = summarizeReport(report({ last_analysis_stats: { malicious: 4, undetected: 10 } }));
    expect(summary).toMatchObject({ detected: 4, engines: 14 });
  });

  it("adds suspicious and harmless verdicts but not timeouts or unsupported types", () => {
    const stats = { malicious: 2, suspicious: 1, undetected: 5, harmless: 3, "type-unsupported": 9, timeout: 4, failure: 1 };
    expect(summarizeReport(report({ last_analysis_stats: stats }))).toMatchObject({ detected: 2, engines: 11 });
  });

  it("gives 0 of 0 without stats, whatever the engine entries say", () => {
    const results = { A: { category: "malicious", result: "Trojan" }, B: { category: "undetected", result: null } };
    expect(summarizeReport(report({ last_analysis_results: results }))).toMatchObject({ detected: 0, engines: 0 });
  });

  it("has no scan date when VirusTotal gives none, rather than inventing one", () => {
    expect(summarizeReport(report({ last_analysis_stats: { malicious: 1 } })).scanDate).toBeNull();
  });

  it("has no Fortinet name or category when Fortinet gave no entry", () => {
    const results = { Kaspersky: { category: "malicious", result: "HEUR:Trojan" } };
    expect(summarizeReport(report({ last_analysis_results: results }))).toMatchObject({
      fortinet: null,
      fortinetCategory: null,
    });
    expect(summarizeReport(report({}))).toMatchObject({ fortinet: null, fortinetCategory: null });
  });

  it("keeps Fortinet's category when it could not scan the file", () => {
    const results = { Fortinet: { category: "type-unsupported", result: null, engine_name: "Fortinet" } };
    expect(summarizeReport(report({ last_analysis_results: results }))).toMatchObject({
      fortinet: null,
      fortinetCategory: "type-unsupported",
    });
  });
});

describe("summarizeReport's scan date", () => {
  const now = new Date("2025-06-01T12:00:00Z");
  const nowSeconds = now.getTime() / 1000;
  const scanDate = (last_analysis_date: number) => summarizeReport(report({ last_analysis_date }), now).scanDate;

  it("keeps dates from 1990 to a day after now", () => {
    expect(scanDate(Date.UTC(1990, 0, 1) / 1000)?.toISOString()).toBe("1990-01-01T00:00:00.000Z");
    expect(scanDate(nowSeconds)).toEqual(now);
    expect(scanDate(nowSeconds + 86_400)?.toISOString()).toBe("2025-06-02T12:00:00.000Z");
  });

  it.each([
    ["0, the Unix epoch", 0],
    ["a second before 1990", Date.UTC(1990, 0, 1) / 1000 - 1],
    ["more than a day ahead", nowSeconds + 86_401],
    ["in year 33,000 (an Invalid Date once in milliseconds)", 1e15],
    ["the largest integer the schema lets through", Number.MAX_SAFE_INTEGER],
  ])("has none for %s", (_, seconds) => {
    expect(report({ last_analysis_date: seconds }).data.attributes.last_analysis_date).toBe(seconds);
    expect(scanDate(seconds)).toBeNull();
  });

  it("bounds the future by the time of the call", () => {
    const date = nowSeconds + 30 * 86_400;
    expect(scanDate(date)).toBeNull();
    expect(summarizeReport(report({ last_analysis_date: date }), new Date((date - 3600) * 1000)).scanDate).not.toBeNull();
  });
});

describe("summarizeReport's text fields", () => {
  it("reads the file's name and type", () => {
    const summary = summarizeReport(report({ meaningful_name: "setup.exe", type_description: "Win32 EXE" }));
    expect(summary).toMatchObject({ meaningfulName: "setup.exe", fileType: "Win32 EXE" });
  });

  it("has no name or type when VirusTotal gives none, or gives something other than a string", () => {
    expect(summarizeReport(report({}))).toMatchObject({ meaningfulName: null, fileType: null });
    expect(summarizeReport(report({ meaningful_name: null, type_description: null }))).toMatchObject({
      meaningfulName: null,
      fileType: null,
    });
    expect(summarizeReport(report({ meaningful_name: 42, type_description: { name: "EXE" } }))).toMatchObject({
      meaningfulName: null,
      fileType: null,
    });
  });

  it("replaces NUL and lone surrogates in every text field, keeping emoji", () => {
    const results = { Fortinet: { category: "mal\u0000icious", result: "W32/\ud800Evil" } };
    const summary = summarizeReport(
      report({ last_analysis_results: results, meaningful_name: "a\u0000b.exe", type_description: "\udc00😀" }),
    );
    expect(summary).toMatchObject({
      fortinet: `W32/${R}Evil`,
      fortinetCategory: `mal${R}icious`,
      meaningfulName: `a${R}b.exe`,
      fileType: `${R}😀`,
    });
  });

  it(`cuts text to ${MAX_SUMMARY_TEXT_LENGTH} characters, never inside a surrogate pair`, () => {
    const long = "x".repeat(5000);
    const summary = summarizeReport(
      report({ meaningful_name: long, type_description: "y".repeat(MAX_SUMMARY_TEXT_LENGTH - 1) + "😀z" }),
    );
    expect(summary.meaningfulName).toBe("x".repeat(MAX_SUMMARY_TEXT_LENGTH));
    expect(summary.fileType).toBe("y".repeat(MAX_SUMMARY_TEXT_LENGTH - 1));
    const exact = "w".repeat(MAX_SUMMARY_TEXT_LENGTH - 2) + "😀";
    expect(summarizeReport(report({ meaningful_name: exact })).meaningfulName).toBe(exact);
  });
});

describe("summarizeReport with absurd counts", () => {
  it("caps counts at what an integer column holds instead of refusing the answer", () => {
    const big = 2 ** 31;
    const report = fileReportSchema.parse({
      data: {
        id: "e".repeat(64),
        attributes: { md5: "a".repeat(32), sha1: "b".repeat(40), sha256: "e".repeat(64), last_analysis_stats: { malicious: big, undetected: big } },
      },
    });
    expect(summarizeReport(report)).toMatchObject({ detected: 2 ** 31 - 1, engines: 2 ** 31 - 1 });
  });
});
