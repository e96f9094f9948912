import { afterEach, describe, expect, it, vi } from "vitest";
import { ttlCache } from "./ttl-cache";

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
