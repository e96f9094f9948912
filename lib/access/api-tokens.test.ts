import { describe, expect, it } from "vitest";
import { bearerToken, isApiToken } from "./api-tokens";

describe("API tokens", () => {
  const tokens = ["first-token-0123456789", "second-token-0123456789"];

  it("accept exactly a configured token", () => {
    expect(isApiToken("first-token-0123456789", tokens)).toBe(true);
    expect(isApiToken("second-token-0123456789", tokens)).toBe(true);
    for (const wrong of [null, undefined, "", "first-token-012345678", "first-token-0123456789 ", "FIRST-TOKEN-0123456789"]) {
      expect(isApiToken(wrong, tokens)).toBe(false);
    }
  });

  it("are read from a Bearer authorization header only", () => {
    const request = (value: string) => new Request("http://x", { headers: { authorization: value } });
    expect(bearerToken(request("Bearer abc"))).toBe("abc");
    expect(bearerToken(request("bearer  abc "))).toBe("abc");
    expect(bearerToken(request("Basic abc"))).toBeNull();
    expect(bearerToken(request("Bearer a b"))).toBeNull();
    expect(bearerToken(new Request("http://x"))).toBeNull();
  });
});
