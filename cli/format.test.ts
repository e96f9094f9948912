import { describe, expect, it } from "vitest";
import type { JobReport, JobResult } from "@/lib/jobs/api-schema";
import { exitCodeOf } from "./errors";
import { acceptedText, fromNow, progressLine, resultsTable, submissionCsv, terminalSafe } from "./format";
import { ProgressReporter } from "./progress";

const result = (changes: Partial<JobResult>): JobResult => ({
  position: 0,
  hash: "b214da9f6b0d6e6de5090b3f9672defe",
  hashType: "md5",
  status: "completed",
  md5: null,
  sha1: null,
  sha256: null,
  fortinet: null,
  fortinetCategory: null,
  detected: null,
  engines: null,
  scanDate: null,
  meaningfulName: null,
  fileType: null,
  error: null,
  retryAt: null,
  ...changes,
});

const counts = (changes: Partial<JobReport["counts"]>): JobReport["counts"] => ({
  total: 10,
  pending: 0,
  completed: 10,
  notFound: 0,
  failed: 0,
  cancelled: 0,
  ...changes,
});

const report = (changes: Partial<JobReport>): JobReport => ({
  id: "AbCdEfGhIjKlMnOpQrSt_-",
  name: null,
  createdAt: "2026-03-01T10:00:00.000Z",
  status: "running",
  source: "simulator",
  counts: counts({ total: 100, pending: 60, completed: 35, notFound: 3, failed: 2 }),
  duplicates: 0,
  invalidCount: 0,
  pause: null,
  estimatedCompletion: null,
  estimateIsLowerBound: false,
  results: [],
  nextCursor: null,
  changeCursor: "c",
  moreChanges: false,
  ...changes,
});

const NOW = Date.parse("2026-03-01T14:02:00Z");

describe("exitCodeOf", () => {
  it("is 0 when every hash has an answer, found or not", () => {
    expect(exitCodeOf(counts({ completed: 7, notFound: 3 }))).toBe(0);
  });
  it("is 1 when the job is done but some hashes failed or were cancelled", () => {
    expect(exitCodeOf(counts({ completed: 9, failed: 1 }))).toBe(1);
    expect(exitCodeOf(counts({ completed: 9, cancelled: 1 }))).toBe(1);
  });
  it("is 3 while anything is pending, failures or not", () => {
    expect(exitCodeOf(counts({ completed: 8, failed: 1, pending: 1 }))).toBe(3);
  });
});

describe("resultsTable", () => {
  it("aligns every column over all rows, numbers to the right, with the Fortinet verdict where it detected nothing", () => {
    const table = resultsTable([
      result({ fortinet: "W32/Kryptik.EIWS!tr", fortinetCategory: "malicious", detected: 53, engines: 62, scanDate: "2025-12-30T08:15:42.000Z" }),
      result({
        hash: "15e43dbe5259192a9d6b89d1c1e3e99ac9e86880",
        hashType: "sha1",
        fortinetCategory: "undetected",
        detected: 0,
        engines: 70,
        scanDate: "2025-01-02T03:04:05.000Z",
      }),
      result({ hash: "dead".padEnd(32, "0"), status: "not_found" }),
    ]);
    expect(table).toBe(
      [
        "HASH                                      STATUS     FORTINET             DETECTED  SCAN DATE",
        "b214da9f6b0d6e6de5090b3f9672defe          completed  W32/Kryptik.EIWS!tr   53 / 62  2025-12-30 08:15 UTC",
        "15e43dbe5259192a9d6b89d1c1e3e99ac9e86880  completed  undetected             0 / 70  2025-01-02 03:04 UTC",
        "dead0000000000000000000000000000          not_found",
        "",
      ].join("\n"),
    );
  });

  it("adds a NOTE column when a row failed (its reason) or waits (its next try)", () => {
    const table = resultsTable([
      result({ status: "failed", error: "VirusTotal answered HTTP 200 with a body that is not JSON" }),
      result({ status: "pending", retryAt: "2026-03-02T00:00:00.000Z" }),
      result({ status: "pending", retryAt: "2026-03-01T14:03:00.000Z", error: "VirusTotal is temporarily unavailable (attempt 2 of 10)" }),
    ]).split("\n");
    expect(table[0]).toMatch(/SCAN DATE {2}NOTE$/);
    expect(table[1]).toMatch(/failed {4}.* {2}VirusTotal answered HTTP 200 with a body that is not JSON$/);
    expect(table[2]).toMatch(/pending .* {2}next try 2026-03-02 00:00 UTC$/);
    expect(table[3]).toMatch(/pending .* {2}next try 2026-03-01 14:03 UTC after: VirusTotal is temporarily unavailable \(attempt 2 of 10\)$/);
  });

  it("never hands a terminal an escape sequence or a line break from a detection name", () => {
    const table = resultsTable([result({ fortinet: "\u001b]0;pwned\u0007Evil\nName\tX" })]);
    expect(table).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(table.split("\n")[1]).toContain("\ufffd]0;pwned\ufffdEvil\ufffdName X");
    expect(table.split("\n")).toHaveLength(3);
  });

  it("is a header alone for no rows", () => {
    expect(resultsTable([])).toBe("HASH  STATUS  FORTINET  DETECTED  SCAN DATE\n");
  });
});

describe("terminalSafe", () => {
  it("keeps a CSV's tabs and line breaks, replaces every other control character", () => {
    expect(terminalSafe('a,"b\tc"\r\nd\u001b[2Je\u009b\n')).toBe('a,"b\tc"\r\nd\ufffd[2Je\ufffd\n');
  });
});

describe("progressLine", () => {
  it("says the status, counts, ETA and a pause with its end", () => {
    const line = progressLine(
      report({
        estimatedCompletion: "2026-03-01T14:05:00.000Z",
        pause: { until: "2026-03-02T00:00:00.000Z", cause: "daily_limit", reason: "the daily limit of 500 requests is reached" },
      }),
      NOW,
    );
    expect(line).toBe(
      "Running: 40 of 100 looked up (40%) · 35 completed, 3 not found, 2 failed, 60 pending · ends around 2026-03-01 14:05 UTC (in 3 min) · paused until 2026-03-02 00:00 UTC (in 9 h 58 min): the daily limit of 500 requests is reached",
    );
  });

  it("says 'no earlier than' for a lower bound, 'any moment' once the ETA has passed, and nothing of either when done", () => {
    expect(progressLine(report({ estimatedCompletion: "2026-03-01T18:00:00.000Z", estimateIsLowerBound: true }), NOW)).toContain(
      "ends no earlier than 2026-03-01 18:00 UTC (in 3 h 58 min)",
    );
    expect(progressLine(report({ estimatedCompletion: "2026-03-01T14:00:00.000Z" }), NOW)).toContain("(any moment)");
    expect(
      progressLine(report({ status: "completed", counts: counts({ completed: 9, cancelled: 1 }), estimatedCompletion: "2026-03-01T14:00:00.000Z" }), NOW),
    ).toBe("Complete: 10 of 10 looked up (100%) · 9 completed, 1 cancelled");
  });
});

describe("fromNow", () => {
  it("rounds to what a person reads", () => {
    expect([0, 40_000, 90_000, 3_600_000, 7_500_000, 86_400_000, 97_200_000].map(fromNow)).toEqual([
      "in 0 s",
      "in 40 s",
      "in 2 min",
      "in 1 h",
      "in 2 h 5 min",
      "in 1 d",
      "in 1 d 3 h",
    ]);
  });
});

describe("a submission", () => {
  const job = {
    id: "AbCdEfGhIjKlMnOpQrSt_-",
    url: "http://localhost:3000/jobs/AbCdEfGhIjKlMnOpQrSt_-",
    statusUrl: "http://localhost:3000/api/jobs/AbCdEfGhIjKlMnOpQrSt_-",
    accepted: 3,
    duplicates: 1,
    invalid: [],
    invalidCount: 0,
    manageToken: "tok",
  };
  it("as CSV: one row under its header", () => {
    expect(submissionCsv(job)).toBe(
      "id,url,status_url,accepted,duplicates,invalid_count,manage_token\r\n" +
        "AbCdEfGhIjKlMnOpQrSt_-,http://localhost:3000/jobs/AbCdEfGhIjKlMnOpQrSt_-,http://localhost:3000/api/jobs/AbCdEfGhIjKlMnOpQrSt_-,3,1,0,tok\r\n",
    );
  });
  it("counts what the server took", () => {
    expect(acceptedText(job)).toBe("3 hashes, 1 repeat dropped, 0 lines without a hash");
  });
});

describe("ProgressReporter", () => {
  const output = (isTTY: boolean) => {
    const writes: string[] = [];
    return { writes, out: { isTTY, columns: 60, write: (text: string) => writes.push(text) } };
  };

  it("rewrites one line on a terminal, cut to its width, and ends it at the finish", () => {
    const { writes, out } = output(true);
    const progress = new ProgressReporter(out, () => NOW);
    progress.update(report({}));
    progress.update(report({ counts: counts({ total: 100, pending: 50, completed: 50 }) }));
    progress.finish(report({ status: "completed", counts: counts({ total: 100, completed: 100 }) }));
    expect(writes).toEqual([
      "\r\u001b[2KRunning: 40 of 100 looked up (40%) · 35 completed, 3 not f…",
      "\r\u001b[2KRunning: 50 of 100 looked up (50%) · 50 completed, 50 pend…",
      "\r\u001b[2KComplete: 100 of 100 looked up (100%) · 100 completed",
      "\n",
    ]);
  });

  it("writes a line at most every 10 s to a log, and the last state at the end", () => {
    const { writes, out } = output(false);
    let now = NOW;
    const progress = new ProgressReporter(out, () => now);
    const at = (pending: number) => report({ counts: counts({ total: 100, pending, completed: 100 - pending }) });
    progress.update(at(90));
    now += 2000;
    progress.update(at(80));
    now += 2000;
    progress.note("http://localhost:3000 answered HTTP 503; asking again");
    now += 8000;
    progress.update(at(50));
    now += 2000;
    progress.update(at(40));
    progress.finish(at(0));
    expect(writes).toEqual([
      "Running: 10 of 100 looked up (10%) · 10 completed, 90 pending\n",
      "http://localhost:3000 answered HTTP 503; asking again\n",
      "Running: 50 of 100 looked up (50%) · 50 completed, 50 pending\n",
      "Running: 100 of 100 looked up (100%) · 100 completed\n",
    ]);
  });
});
