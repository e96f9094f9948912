import { describe, expect, it } from "vitest";
import { TASK_COPY_COLUMNS, parseUploadBytes, parseUploadList, parseUploadText, type ParsedUpload } from "./upload";

const JOB = "j".repeat(22);
const rowsOf = (upload: ParsedUpload) =>
  Buffer.concat(upload.rows).toString("ascii").split("\n").slice(0, -1).map((row) => row.split("\t"));

describe("a parsed upload", () => {
  it("summarises the parse and holds its tasks as COPY rows, in order of first occurrence", () => {
    const text = `# list\n${"A".repeat(32)}\nnothing\n${"b".repeat(40)};${"a".repeat(32)}\n${"c".repeat(64)}`;
    const upload = parseUploadText(text, JOB);
    expect(upload).toMatchObject({
      jobId: JOB,
      accepted: 3,
      duplicates: 1,
      invalid: [{ line: 3, value: "nothing", reason: "no MD5, SHA-1 or SHA-256 found" }],
      invalidCount: 1,
      counts: { md5: 1, sha1: 1, sha256: 1 },
    });
    expect(TASK_COPY_COLUMNS).toEqual(["job_id", "position", "line", "hash", "hash_type"]);
    expect(rowsOf(upload)).toEqual([
      [JOB, "0", "2", "a".repeat(32), "md5"],
      [JOB, "1", "4", "b".repeat(40), "sha1"],
      [JOB, "2", "5", "c".repeat(64), "sha256"],
    ]);
    expect(parseUploadBytes(new TextEncoder().encode(text), JOB)).toEqual(upload);
    expect(rowsOf(parseUploadList(["x", "a".repeat(32)], JOB))).toEqual([[JOB, "0", "2", "a".repeat(32), "md5"]]);
  });

  it("splits many rows into blocks of whole rows, none past a megabyte", () => {
    const lines = Array.from({ length: 30_000 }, (_, i) => i.toString(16).padStart(64, "0"));
    const upload = parseUploadList(lines, JOB);
    expect(upload.rows.length).toBeGreaterThan(1);
    for (const block of upload.rows) {
      expect(block.byteLength).toBeLessThanOrEqual(1024 * 1024);
      expect(block[block.byteLength - 1]).toBe(10);
    }
    const rows = rowsOf(upload);
    expect(rows).toHaveLength(30_000);
    expect(rows[29_999]).toEqual([JOB, "29999", "30000", lines[29_999], "sha256"]);
  });

  it("past the job limit, counts hashes without writing their rows", () => {
    const lines = Array.from({ length: 10 }, (_, i) => i.toString(16).padStart(32, "0"));
    const upload = parseUploadList(lines, JOB, 4);
    expect(upload.accepted).toBe(10);
    expect(rowsOf(upload)).toHaveLength(4);
  });

  it("has no rows when nothing was found", () => {
    expect(parseUploadText("nothing", JOB).rows).toEqual([]);
  });
});
