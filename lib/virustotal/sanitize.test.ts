import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH, REPLACEMENT_CHARACTER as R, sanitizeJson, sanitizeText, TOO_DEEP } from "./sanitize";

const fixture = new URL(
  "../../tests/fixtures/vt/417c06700c3e899f0554654102fa064385bf1d3ecec32471ac488096d81bf38c.json",
  import.meta.url,
);

/** What a VirusTotal body containing these escapes parses to, written as the JSON text it arrives as. */
const parse = (json: string): unknown => JSON.parse(json);

function depthOf(value: unknown): number {
  let depth = 0;
  while (typeof value === "object" && value !== null) {
    depth += 1;
    value = Array.isArray(value) ? value[0] : Object.values(value)[0];
  }
  return depth;
}

describe("sanitizeText", () => {
  it.each([
    ["NUL", "a\u0000b", `a${R}b`],
    ["a lone high surrogate", "a\ud800b", `a${R}b`],
    ["a lone high surrogate at the end", "ab\udbff", `ab${R}`],
    ["a lone low surrogate", "a\udc00b", `a${R}b`],
    ["a pair in the wrong order", "\udc00\ud800", `${R}${R}`],
    ["several NULs", "\u0000\u0000", `${R}${R}`],
  ])("replaces %s", (_, text, expected) => {
    expect(sanitizeText(text)).toBe(expected);
  });

  it("keeps well-formed pairs, other control characters and U+FFFD itself", () => {
    for (const text of ["😀", "\ud83d\ude00 ok", "tab\tand\u0001", `already ${R}`, ""]) {
      expect(sanitizeText(text)).toBe(text);
    }
  });
});

describe("sanitizeJson", () => {
  it("copies a real report unchanged, without sharing anything with it", () => {
    const report = parse(readFileSync(fixture, "utf8")) as { data: { attributes: object } };
    const copy = sanitizeJson(report) as typeof report;
    expect(copy).toEqual(report);
    expect(copy).not.toBe(report);
    expect(copy.data.attributes).not.toBe(report.data.attributes);
  });

  it("replaces NUL and lone surrogates in values, at any depth and in arrays", () => {
    const value = parse('{"a": "x\\u0000y", "b": ["\\ud800", {"c": "\\udc00"}], "d": "\\ud83d\\ude00"}');
    expect(sanitizeJson(value)).toEqual({ a: `x${R}y`, b: [R, { c: R }], d: "😀" });
  });

  it("replaces NUL and lone surrogates in keys", () => {
    const value = parse('{"a\\u0000": 1, "nested": {"\\ud800k": 2, "\\udc00": 3, "😀": 4}}');
    expect(sanitizeJson(value)).toEqual({ [`a${R}`]: 1, nested: { [`${R}k`]: 2, [R]: 3, "😀": 4 } });
  });

  it("leaves numbers, booleans and null alone", () => {
    const value = parse('[0, -1.5, 1e308, 1e400, true, false, null, ""]');
    expect(sanitizeJson(value)).toEqual([0, -1.5, 1e308, Infinity, true, false, null, ""]);
  });

  it("gives a key that needed no change priority over one sanitized into it, in either order", () => {
    expect(sanitizeJson(parse(`{"a\\u0000": 1, "a${R}": 2}`))).toEqual({ [`a${R}`]: 2 });
    expect(sanitizeJson(parse(`{"a${R}": 2, "a\\u0000": 1}`))).toEqual({ [`a${R}`]: 2 });
  });

  it("keeps the first of several sanitized keys that collide", () => {
    expect(sanitizeJson(parse('{"a\\u0000": 1, "a\\ud800": 2, "a\\udfff": 3}'))).toEqual({ [`a${R}`]: 1 });
    expect(sanitizeJson(parse('{"a\\udfff": 3, "a\\u0000": 1}'))).toEqual({ [`a${R}`]: 3 });
  });

  it("keeps a __proto__ key as data, not as the prototype", () => {
    const copy = sanitizeJson(parse('{"__proto__": {"polluted": true}, "x\\u0000": 1}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.hasOwn(copy, "__proto__")).toBe(true);
    expect(JSON.stringify(copy)).toBe(`{"__proto__":{"polluted":true},"x${R}":1}`);
  });

  it("does not change its input", () => {
    const text = '{"a\\u0000": ["\\ud800"]}';
    const value = parse(text);
    sanitizeJson(value);
    expect(value).toEqual(parse(text));
  });

  it(`keeps ${MAX_JSON_DEPTH} levels of nesting whole`, () => {
    const text = "[".repeat(MAX_JSON_DEPTH) + '"\\u0000"' + "]".repeat(MAX_JSON_DEPTH);
    expect(sanitizeJson(parse(text))).toEqual(parse(text.replace("\\u0000", R)));
  });

  it("replaces what lies deeper with a marker", () => {
    const text = "[".repeat(MAX_JSON_DEPTH + 1) + "1" + "]".repeat(MAX_JSON_DEPTH + 1);
    const expected = parse("[".repeat(MAX_JSON_DEPTH - 1) + JSON.stringify([TOO_DEEP]) + "]".repeat(MAX_JSON_DEPTH - 1));
    expect(sanitizeJson(parse(text))).toEqual(expected);
  });

  it.each([
    ["arrays", (inner: unknown) => [inner]],
    ["objects", (inner: unknown) => ({ k: inner })],
  ])("copes with 100,000 levels of nested %s, giving a value JSON.stringify accepts", (_, wrap) => {
    let value: unknown = "\u0000";
    for (let i = 0; i < 100_000; i++) value = wrap(value);
    expect(() => JSON.stringify(value)).toThrow(RangeError); // what the database layer would have done
    const copy = sanitizeJson(value);
    expect(depthOf(copy)).toBe(MAX_JSON_DEPTH);
    expect(JSON.stringify(copy)).toContain(JSON.stringify(TOO_DEEP));
  });
});
