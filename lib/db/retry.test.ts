import { describe, expect, it } from "vitest";
import { errorCode, isConflict, isConnectionLoss, withRetries } from "./retry";

/** As Drizzle throws a driver's error: wrapped, with the original as its cause. */
const wrapped = (code: string) => Object.assign(new Error("Failed query"), { cause: Object.assign(new Error("driver"), { code }) });

describe("retries of database work", () => {
  it("reads the code through Drizzle's wrapper", () => {
    expect(errorCode(wrapped("40P01"))).toBe("40P01");
    expect(isConflict(wrapped("40P01"))).toBe(true);
    expect(isConflict(wrapped("40001"))).toBe(true);
    expect(isConnectionLoss(wrapped("CONNECTION_CLOSED"))).toBe(true);
    expect(isConnectionLoss(wrapped("57P01"))).toBe(true);
    expect(isConflict(wrapped("23505"))).toBe(false);
    expect(errorCode(new Error("plain"))).toBeUndefined();
  });

  it("tries again while the error is one a second try can cure, up to the bound, then gives the last error", async () => {
    let calls = 0;
    const flaky = async () => {
      calls++;
      if (calls < 3) throw wrapped("CONNECTION_CLOSED");
      return "saved";
    };
    expect(await withRetries(flaky, { tries: 5, baseDelayMs: 1, retryIf: isConnectionLoss })).toBe("saved");
    expect(calls).toBe(3);

    calls = 0;
    const down = async () => {
      calls++;
      throw wrapped("CONNECTION_CLOSED");
    };
    await expect(withRetries(down, { tries: 4, baseDelayMs: 1, retryIf: isConnectionLoss })).rejects.toThrow("Failed query");
    expect(calls).toBe(4);
  });

  it("does not retry an error another try cannot cure", async () => {
    let calls = 0;
    const refused = async () => {
      calls++;
      throw wrapped("22P05"); // e.g. an unsupported Unicode escape: the same content fails the same way
    };
    await expect(withRetries(refused, { tries: 5, baseDelayMs: 1, retryIf: isConnectionLoss })).rejects.toThrow();
    expect(calls).toBe(1);
  });
});
