import { afterEach, describe, expect, it, vi } from "vitest";
import { keyedTtlCache, ttlCache } from "./ttl-cache";

describe("ttlCache", () => {
  afterEach(() => vi.useRealTimers());

  it("shares one computation between concurrent callers and keeps it for the period", async () => {
    vi.useFakeTimers();
    let calls = 0;
    const read = ttlCache(1000, async () => ++calls);
    expect(await Promise.all([read(), read(), read()])).toEqual([1, 1, 1]);
    vi.advanceTimersByTime(999);
    expect(await read()).toBe(1);
    expect(calls).toBe(1);
  });

  it("past the period, answers at once with the last value while it computes the next", async () => {
    vi.useFakeTimers();
    let calls = 0;
    const read = ttlCache(1000, async () => ++calls);
    await read();
    vi.advanceTimersByTime(1500);
    expect(await read()).toBe(1);
    expect(calls).toBe(2);
    expect(await read()).toBe(2);
  });

  it("waits for a fresh value when the last one is older than twice the period", async () => {
    vi.useFakeTimers();
    let calls = 0;
    const read = ttlCache(1000, async () => ++calls);
    await read();
    vi.advanceTimersByTime(2000);
    expect(await read()).toBe(2);
  });

  it("does not keep a failure", async () => {
    let calls = 0;
    const read = ttlCache(60_000, async () => {
      calls += 1;
      if (calls === 1) throw new Error("down");
      return calls;
    });
    await expect(read()).rejects.toThrow("down");
    expect(await read()).toBe(2);
  });
});

describe("keyedTtlCache", () => {
  it("computes once per key within the period, and forgets the oldest key past its room", async () => {
    const calls: number[] = [];
    const read = keyedTtlCache(60_000, 2, async (key: number) => (calls.push(key), key * 10));
    expect(await Promise.all([read(1), read(1), read(2)])).toEqual([10, 10, 20]);
    expect(calls).toEqual([1, 2]);
    await read(3); // no room for a third: key 1 is forgotten
    await read(2);
    await read(1);
    expect(calls).toEqual([1, 2, 3, 1]);
  });
});
