import { describe, expect, it } from "vitest";
import { isManageToken, manageTokenFor } from "./manage-token";

const secret = "s".repeat(32);

describe("manage tokens", () => {
  it("are an HMAC of the job id: the same for the same job and secret, different otherwise", () => {
    const token = manageTokenFor("AAAAAAAAAAAAAAAAAAAAAA", secret);
    expect(token).toMatch(/^[\w-]{43}$/);
    expect(manageTokenFor("AAAAAAAAAAAAAAAAAAAAAA", secret)).toBe(token);
    expect(manageTokenFor("AAAAAAAAAAAAAAAAAAAAAB", secret)).not.toBe(token);
    expect(manageTokenFor("AAAAAAAAAAAAAAAAAAAAAA", "t".repeat(32))).not.toBe(token);
  });

  it("check only the exact token, whatever its length", () => {
    const token = manageTokenFor("job", secret);
    expect(isManageToken("job", token, secret)).toBe(true);
    for (const wrong of [null, "", token.slice(1), `${token}x`, token.toUpperCase(), "é".repeat(43)]) {
      expect(isManageToken("job", wrong, secret)).toBe(false);
    }
  });
});
