import { describe, expect, it } from "vitest";
import { concurrencyLimit } from "./concurrency";

describe("concurrencyLimit", () => {
  it("runs at most `max` at once, the rest in the order they came, through failures", async () => {
    const run = concurrencyLimit(2);
    let now = 0;
    let most = 0;
    const started: number[] = [];
    const task = (i: number) =>
      run(async () => {
        started.push(i);
        most = Math.max(most, ++now);
        await new Promise((resolve) => setTimeout(resolve, 5));
        now -= 1;
        if (i % 3 === 0) throw new Error(`task ${i}`);
        return i;
      });
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => task(i)));
    expect(most).toBe(2);
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(results.filter((r) => r.status === "rejected")).toHaveLength(4);
    // Every slot came back: two more run at once again.
    await Promise.all([task(10), task(11)]);
    expect(most).toBe(2);
  });

  it("never lets a newcomer take a slot handed to one waiting", async () => {
    const run = concurrencyLimit(1);
    let now = 0;
    let most = 0;
    const work = () => run(async () => {
      most = Math.max(most, ++now);
      await Promise.resolve();
      now -= 1;
    });
    const first = work();
    const second = work();
    await first; // the slot is the second's now; a call made at this moment waits behind it
    await Promise.all([work(), second]);
    expect(most).toBe(1);
  });
});
