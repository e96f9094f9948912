import { describe, expect, it } from "vitest";
import { parseUploadBytes, parseUploadList, parseUploadText } from "./upload";

describe("a parsed upload", () => {
  it("summarises the parse and holds its hashes as three array literals, in order of first occurrence", () => {
    const text = `# list\n${"A".repeat(32)}\nnothing\n${"b".repeat(40)};${"a".repeat(32)}\n${"c".repeat(64)}`;
    const upload = parseUploadText(text);
    expect(upload).toEqual({
      accepted: 3,
      duplicates: 1,
      invalid: [{ line: 3, value: "nothing", reason: "no MD5, SHA-1 or SHA-256 found" }],
      invalidCount: 1,
      counts: { md5: 1, sha1: 1, sha256: 1 },
      columns: {
        lines: "{2,4,5}",
        hashes: `{${"a".repeat(32)},${"b".repeat(40)},${"c".repeat(64)}}`,
        types: "{md5,sha1,sha256}",
      },
    });
    expect(parseUploadBytes(new TextEncoder().encode(text))).toEqual(upload);
    expect(parseUploadList(["x", "a".repeat(32)]).columns).toEqual({ lines: "{2}", hashes: `{${"a".repeat(32)}}`, types: "{md5}" });
  });

  it("is empty arrays when nothing was found", () => {
    expect(parseUploadText("nothing").columns).toEqual({ lines: "{}", hashes: "{}", types: "{}" });
  });
});
