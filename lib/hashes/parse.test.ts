import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { MAX_INVALID_LINES_KEPT, decodeText, hashTypeOf, parseHashList, parseHashText, printable, type ParseResult } from ".";
import { scanHashBytes } from "./parse";

// md5, sha1 and sha256 of the same sample (tests/fixtures/samples/fixture-hashes.csv).
const MD5 = "119aef5280f0d609dc5b30d454c1b94c";
const SHA1 = "15e43dbe5259192a9d6b89d1c1e3e99ac9e86880";
const SHA256 = "0001a1252300b4732e4a010a5dd13a291dcb8b0ebee6febedb5152dfb0bcd488";
const digest = (algorithm: string) => createHash(algorithm).update("hashscan").digest("hex");

const hashesOf = (result: ParseResult) => result.hashes.map((h) => h.hash);
const reasonOf = (line: string) => parseHashText(line).invalid[0]?.reason;
const fixture = (name: string) =>
  readFileSync(new URL(`../../tests/fixtures/samples/${name}`, import.meta.url), "utf8");

describe("hashTypeOf", () => {
  it("classifies pure hex strings by length", () => {
    expect(hashTypeOf(MD5)).toBe("md5");
    expect(hashTypeOf(SHA1)).toBe("sha1");
    expect(hashTypeOf(SHA256.toUpperCase())).toBe("sha256");
  });

  it.each([
    ["empty", ""],
    ["31 hex digits", MD5.slice(1)],
    ["SHA-512", digest("sha512")],
    ["a non-hex letter", `g${MD5.slice(1)}`],
    ["surrounding space", ` ${MD5}`],
    ["a 0x prefix", `0x${MD5}`],
  ])("returns null for %s", (_, value) => {
    expect(hashTypeOf(value)).toBeNull();
  });
});

describe("parseHashText", () => {
  it("finds one hash per line, lower-cased, with its type, line and per-type counts", () => {
    const result = parseHashText(`${MD5}\n${SHA1.toUpperCase()}\n${SHA256}`);
    expect(result.hashes).toEqual([
      { hash: MD5, type: "md5", line: 1 },
      { hash: SHA1, type: "sha1", line: 2 },
      { hash: SHA256, type: "sha256", line: 3 },
    ]);
    expect(result.counts).toEqual({ md5: 1, sha1: 1, sha256: 1 });
    expect(result).toMatchObject({ duplicates: 0, invalid: [], invalidCount: 0 });
  });

  it("takes every hash of a CSV row, and reports a header row as holding none", () => {
    const result = parseHashText(`md5,sha1,sha256\n${MD5},${SHA1},${SHA256}`);
    expect(result.hashes.map((h) => [h.hash, h.line])).toEqual([
      [MD5, 2],
      [SHA1, 2],
      [SHA256, 2],
    ]);
    expect(result.invalid).toEqual([
      { line: 1, value: "md5,sha1,sha256", reason: "no MD5, SHA-1 or SHA-256 found" },
    ]);
  });

  it.each([
    ["a type prefix", `sha256:${SHA256}`],
    ["a key=value pair", `hash=${SHA256}`],
    ["double quotes", `"${SHA256}"`],
    ["single quotes", `'${SHA256}'`],
    ["tabs", `\t${SHA256}\tTrojan.Generic`],
    ["a LOKI comment", `${SHA256};Dark Caracal - PE32 executable`],
    ["a path and extension", `ffmpeg_dlls/${SHA256}.exe`],
    ["an underscore", `${SHA256}_shellcode`],
    ["a JSON field", `{"sha256": "${SHA256}", "name": "x"}`],
    ["a non-ASCII letter", `é${SHA256}ü`],
  ])("finds a hash bounded by %s", (_, line) => {
    expect(hashesOf(parseHashText(line))).toEqual([SHA256]);
  });

  it("upper-cases and lower-cases of one hash are the same hash", () => {
    const result = parseHashText(`${MD5.toUpperCase()}\n${MD5}`);
    expect(result.hashes).toEqual([{ hash: MD5, type: "md5", line: 1 }]);
    expect(result.duplicates).toBe(1);
  });

  it("numbers lines the same whatever the line endings", () => {
    const result = parseHashText(`${MD5}\r\n${SHA1}\r${SHA256}\n\r\nnot a hash`);
    expect(result.hashes.map((h) => h.line)).toEqual([1, 2, 3]);
    expect(result.invalid.map((i) => i.line)).toEqual([5]);
  });

  it("ignores a UTF-8 byte-order mark at the start", () => {
    expect(parseHashText(`\uFEFF${MD5}\n${SHA1}`).hashes.map((h) => [h.hash, h.line])).toEqual([
      [MD5, 1],
      [SHA1, 2],
    ]);
    expect(parseHashText(`\uFEFF# exported hashes\n${MD5}`)).toMatchObject({ invalidCount: 0 });
  });

  it("keeps the first line of a hash and counts each repeat, even on the same line", () => {
    const result = parseHashText(`${SHA1}\n${MD5} ${MD5} ${MD5}\n${SHA1}`);
    expect(result.hashes).toEqual([
      { hash: SHA1, type: "sha1", line: 1 },
      { hash: MD5, type: "md5", line: 2 },
    ]);
    expect(result.duplicates).toBe(3);
  });

  it("skips blank lines and # or // comment lines, but not a trailing comment", () => {
    const text = ["", "   \t", `# ${MD5}`, `  // ${SHA1}`, `${SHA256} # dropper`, `/ ${MD5}`].join("\n");
    const result = parseHashText(text);
    expect(result.hashes.map((h) => [h.hash, h.line])).toEqual([
      [SHA256, 5],
      [MD5, 6],
    ]);
    expect(result.invalidCount).toBe(0);
  });

  it("does not take a hex run glued to letters or digits for a hash", () => {
    const result = parseHashText(`0x${MD5}\nsample${MD5}\n${MD5}0`);
    expect(result.hashes).toEqual([]);
    expect(result.invalid.map((i) => i.reason)).toEqual([
      "no MD5, SHA-1 or SHA-256 found",
      "no MD5, SHA-1 or SHA-256 found",
      "33 hex digits — not an MD5 (32), SHA-1 (40) or SHA-256 (64) hash",
    ]);
  });

  it("accepts a line whose only other hex is noise, like a GUID or a tweet id", () => {
    const line = `${MD5};https://twitter.com/x/status/1097423665472376832 {6f9619ff-8b86-d011-b42d-00c04fc964ff}`;
    expect(parseHashText(line)).toMatchObject({ hashes: [{ hash: MD5 }], invalidCount: 0 });
  });

  it.each([
    ["SHA-512", digest("sha512"), "128 hex digits — SHA-512 is not supported"],
    ["SHA-384", digest("sha384"), "96 hex digits — SHA-384 is not supported"],
    ["SHA-224", digest("sha224"), "56 hex digits — SHA-224 is not supported"],
    ["a truncated MD5", MD5.slice(0, 31), "31 hex digits — not an MD5 (32), SHA-1 (40) or SHA-256 (64) hash"],
    ["a SHA-256 with a stray digit", `${SHA256}a`, "65 hex digits — not an MD5 (32), SHA-1 (40) or SHA-256 (64) hash"],
    ["plain text", "see attached report", "no MD5, SHA-1 or SHA-256 found"],
    ["a GUID", "6f9619ff-8b86-d011-b42d-00c04fc964ff", "no MD5, SHA-1 or SHA-256 found"],
    ["15 hex digits", "deadbeefcafe123", "no MD5, SHA-1 or SHA-256 found"],
  ])("explains a line holding %s", (_, line, reason) => {
    expect(reasonOf(line)).toBe(reason);
  });

  it("names the longest odd hex run in the reason", () => {
    expect(reasonOf(`${MD5.slice(0, 20)} ${MD5.slice(0, 31)} ${MD5.slice(0, 17)}`)).toMatch(/^31 hex digits/);
  });

  it("shows the invalid line trimmed, cut to 100 characters with an ellipsis", () => {
    const exact = "x".repeat(100);
    const result = parseHashText(`  \tnot a hash \n${exact}\n${"y".repeat(250)}`);
    expect(result.invalid.map((i) => i.value)).toEqual(["not a hash", exact, `${"y".repeat(99)}…`]);
  });

  it("does not split a surrogate pair when cutting the excerpt", () => {
    const value = parseHashText(`${"x".repeat(98)}😀${"x".repeat(10)}`).invalid[0].value;
    expect(value).toBe(`${"x".repeat(98)}…`);
  });

  it(`keeps the first ${MAX_INVALID_LINES_KEPT} invalid lines and counts them all`, () => {
    const lines = Array.from({ length: 1500 }, (_, i) => `junk ${i}`);
    const result = parseHashText([MD5, ...lines].join("\n"));
    expect(result.invalidCount).toBe(1500);
    expect(result.invalid).toHaveLength(MAX_INVALID_LINES_KEPT);
    expect(result.invalid[0]).toMatchObject({ line: 2, value: "junk 0" });
    expect(result.invalid.at(-1)).toMatchObject({ line: 1001, value: "junk 999" });
    expect(result.hashes).toHaveLength(1);
  });

  it.each([
    ["empty input", ""],
    ["whitespace only", " \n\t\r\n  "],
    ["only comments", "# LOKI hash list\n#\n// nothing yet\n"],
  ])("returns an empty result for %s", (_, text) => {
    expect(parseHashText(text)).toEqual({
      hashes: [],
      duplicates: 0,
      invalid: [],
      invalidCount: 0,
      counts: { md5: 0, sha1: 0, sha256: 0 },
    });
  });

  it("parses 100,000 lines", () => {
    // Each block of ten lines: 3 MD5, 3 SHA-1 (one repeated), 2 SHA-256 and a line of junk.
    const kinds = ["md5", "md5", "md5", "sha1", "repeat", "sha1", "sha1", "sha256", "sha256", "junk"] as const;
    const width = { md5: 32, sha1: 40, sha256: 64 };
    const lines = Array.from({ length: 100_000 }, (_, i) => {
      const kind = kinds[i % 10];
      if (kind === "junk") return `note ${i}`;
      if (kind === "repeat") return `${(i - 1).toString(16).padStart(width.sha1, "0")};again`;
      return `${i.toString(16).padStart(width[kind], "0")};sample ${i}`;
    });
    const result = parseHashText(lines.join("\r\n"));
    expect(result.counts).toEqual({ md5: 30_000, sha1: 30_000, sha256: 20_000 });
    expect(result.hashes).toHaveLength(80_000);
    expect(result.duplicates).toBe(10_000);
    expect(result.invalidCount).toBe(10_000);
    expect(result.hashes.at(-1)).toMatchObject({ line: 99_999, type: "sha256" });
  });
});

describe("parseHashList", () => {
  it("parses each element as one line numbered from 1", () => {
    const result = parseHashList([MD5, `${SHA1} ${SHA256}`, "", "# note", "oops", MD5.toUpperCase()]);
    expect(result.hashes.map((h) => [h.hash, h.line])).toEqual([
      [MD5, 1],
      [SHA1, 2],
      [SHA256, 2],
    ]);
    expect(result.invalid).toEqual([{ line: 5, value: "oops", reason: "no MD5, SHA-1 or SHA-256 found" }]);
    expect(result.duplicates).toBe(1);
  });

  it("returns an empty result for an empty list", () => {
    expect(parseHashList([])).toMatchObject({ hashes: [], invalidCount: 0 });
  });
});

describe("real inputs", () => {
  it("reads the LOKI hash IOC list without a single invalid line", () => {
    const result = parseHashText(fixture("loki-hash-iocs.txt"));
    expect(result.hashes).toHaveLength(3053);
    expect(result.counts).toEqual({ md5: 986, sha1: 893, sha256: 1174 });
    expect(result.duplicates).toBe(182);
    expect(result.invalidCount).toBe(0);
  });

  it("reads the fixture CSV: 7 rows of md5, sha1 and sha256 under a header", () => {
    const result = parseHashText(fixture("fixture-hashes.csv"));
    expect(result.counts).toEqual({ md5: 7, sha1: 7, sha256: 7 });
    expect(result.invalid.map((i) => i.line)).toEqual([1]);
  });
});

describe("text as it arrives", () => {
  it("decodes UTF-8 (BOM dropped) and UTF-16 with its BOM, either byte order", () => {
    const text = "0496f4962d3dce3caa849f605749f7f2\r\nnoté";
    const le = Buffer.from(`\ufeff${text}`, "utf16le");
    const be = Buffer.from(le);
    for (let i = 0; i < be.length; i += 2) [be[i], be[i + 1]] = [be[i + 1], be[i]];
    expect(decodeText(new Uint8Array(Buffer.from(`\ufeff${text}`)))).toBe(text);
    expect(decodeText(new Uint8Array(le))).toBe(text);
    expect(decodeText(new Uint8Array(be))).toBe(text);
    expect(decodeText(new Uint8Array())).toBe("");
  });

  it("echoes a line without a hash as printable text: no NUL, controls or half surrogate pairs", () => {
    expect(printable("a\u0000b\u001bc\u007fd\te")).toBe("a\ufffdb\ufffdc\ufffdd\te");
    expect(printable("x\ud800y\udc00")).toBe("x\ufffdy\ufffd");
    expect(printable("😀 ok")).toBe("😀 ok");
    const parsed = parseHashText("bad\u0000line\n0496f4962d3dce3caa849f605749f7f2");
    expect(parsed.invalid).toEqual([{ line: 1, value: "bad\ufffdline", reason: "no MD5, SHA-1 or SHA-256 found" }]);
  });
});

describe("a file's bytes, read a chunk at a time", () => {
  const viaBytes = (bytes: Uint8Array): ParseResult => {
    const hashes: ParseResult["hashes"] = [];
    const { duplicates, invalid, invalidCount, counts } = scanHashBytes(bytes, (hash, type, line) => hashes.push({ hash, type, line }));
    return { hashes, duplicates, invalid, invalidCount, counts };
  };
  const sameAsWhole = (text: string) => {
    const bytes = new Uint8Array(Buffer.from(text));
    expect(viaBytes(bytes)).toEqual(parseHashText(decodeText(bytes)));
  };

  it("finds what the whole text holds, line numbers included, across chunks of a quarter megabyte", () => {
    // About 5 MB of every line ending, blank lines, non-ASCII text and invalid lines, so chunk ends fall everywhere.
    const endings = ["\n", "\r\n", "\r", "\n\n", "\r\n\r\n"];
    const lines = Array.from({ length: 100_000 }, (_, i) => {
      const hash = createHash(i % 3 === 0 ? "md5" : i % 3 === 1 ? "sha1" : "sha256").update(String(i % 80_000)).digest("hex");
      const line = i % 7 === 0 ? `noté ${i} — ünïcode 😀` : i % 11 === 0 ? `${hash.toUpperCase()},${hash}` : hash;
      return line + endings[i % endings.length];
    });
    const text = lines.join("");
    expect(Buffer.byteLength(text)).toBeGreaterThan(3 * 1024 * 1024);
    sameAsWhole(text);
    sameAsWhole(`\ufeff${text}`);
    sameAsWhole(`${text}${MD5}`);
    // Seconds of work on purpose: under a loaded machine (CI beside other jobs) it needs more than the default 5 s.
  }, 60_000);

  it("reads a line cut at the exact end of a chunk, a file with no newline and an empty file", () => {
    for (const size of [256 * 1024 - 2, 256 * 1024 - 1, 256 * 1024, 256 * 1024 + 1]) {
      const filler = "#".repeat(size);
      sameAsWhole(`${filler}\n${MD5}\n${SHA1}`);
      sameAsWhole(`${filler}\r\n\r\n${MD5}`);
      sameAsWhole(`${filler}\n`);
    }
    sameAsWhole(`${"x".repeat(3 * 1024 * 1024)}`);
    sameAsWhole(MD5);
    sameAsWhole("");
  });

  it("reads UTF-16 whole", () => {
    const le = Buffer.from(`\ufeff${MD5}\r\nnoté\r\n${SHA1}`, "utf16le");
    expect(viaBytes(new Uint8Array(le))).toEqual(parseHashText(`${MD5}\r\nnoté\r\n${SHA1}`));
  });
});
