import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DigestSet } from "./digest-set";

const digest = (algorithm: string, i: number) => createHash(algorithm).update(String(i)).digest("hex");

describe("DigestSet", () => {
  it("tells new digests from repeated ones, of every length, through many regrowths", () => {
    const set = new DigestSet();
    const all = ["md5", "sha1", "sha256"].flatMap((algorithm) => Array.from({ length: 20_000 }, (_, i) => digest(algorithm, i)));
    for (const hex of all) expect(set.add(hex)).toBe(true);
    for (const hex of all) expect(set.add(hex)).toBe(false);
    expect(set.size).toBe(60_000);
    // Seconds of work on purpose: under a loaded machine (CI beside other jobs) it needs more than the default 5 s.
  }, 60_000);

  it("keeps digests that differ in one nibble, or share a prefix but not a length, apart", () => {
    const set = new DigestSet();
    const md5 = "0".repeat(32);
    expect(set.add(md5)).toBe(true);
    expect(set.add(`${"0".repeat(31)}1`)).toBe(true);
    expect(set.add(`1${"0".repeat(31)}`)).toBe(true);
    expect(set.add("0".repeat(40))).toBe(true);
    expect(set.add("0".repeat(64))).toBe(true);
    expect(set.add("f".repeat(64))).toBe(true);
    expect(set.add(md5)).toBe(false);
    expect(set.size).toBe(6);
  });

  it("stays fast for digests built to look alike (a shared prefix, one counter at the end)", () => {
    const set = new DigestSet();
    const started = performance.now();
    for (let i = 0; i < 200_000; i++) set.add(`${"ab".repeat(12)}${i.toString(16).padStart(8, "0")}`);
    expect(set.size).toBe(200_000);
    // Quadratic probing of 200,000 entries would take minutes; this is a bound a busy machine keeps by far.
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});
