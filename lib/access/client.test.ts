import { describe, expect, it } from "vitest";
import { CLIENT_ADDRESS_HEADER, clientAddress, clientId } from "./client";

describe("clientAddress", () => {
  it("ignores X-Forwarded-For without trusted proxies: anyone can send it", () => {
    expect(clientAddress("203.0.113.9", "198.51.100.1", 0)).toBe("203.0.113.9");
    expect(clientAddress(undefined, "198.51.100.1", 0)).toBe("unknown");
  });

  it("takes the address the last trusted proxy saw, whatever the client put before it", () => {
    // client → proxy (appends the client's address) → us
    expect(clientAddress("10.0.0.2", "198.51.100.1", 1)).toBe("198.51.100.1");
    expect(clientAddress("10.0.0.2", "6.6.6.6, 198.51.100.1", 1)).toBe("198.51.100.1");
    // Two proxies: the outer one appended the client, the inner one the outer.
    expect(clientAddress("10.0.0.3", "6.6.6.6, 198.51.100.1, 10.0.0.2", 2)).toBe("198.51.100.1");
    // Fewer hops than trusted (a request that bypassed a proxy): the first address there is.
    expect(clientAddress("10.0.0.2", undefined, 2)).toBe("10.0.0.2");
    expect(clientAddress("10.0.0.2", " , ", 1)).toBe("10.0.0.2");
  });

  it("drops a port, and takes an entry that is no address for the peer's", () => {
    expect(clientAddress("10.0.0.2", "198.51.100.1:5678", 1)).toBe("198.51.100.1");
    expect(clientAddress("10.0.0.2", "[2001:db8::1]:443", 1)).toBe("2001:db8::1");
    expect(clientAddress("10.0.0.2", "unknown", 1)).toBe("10.0.0.2");
    expect(clientAddress("10.0.0.2", `made-up-${Math.random()}`, 1)).toBe("10.0.0.2");
    expect(clientAddress("10.0.0.2", "_hidden", 1)).toBe("10.0.0.2");
  });
});

describe("clientId", () => {
  const from = (address: string) => new Headers({ [CLIENT_ADDRESS_HEADER]: address });

  it("names a token by a digest, never the token", () => {
    const id = clientId(from("203.0.113.9"), "team-token-0123456789abcdef");
    expect(id).toMatch(/^token:[0-9a-f]{32}$/);
    expect(id).not.toContain("team-token");
    expect(clientId(from("198.51.100.1"), "team-token-0123456789abcdef")).toBe(id);
    expect(clientId(from("203.0.113.9"), "other-token-0123456789abcdef")).not.toBe(id);
  });

  it("names an address, IPv4-mapped as IPv4 and IPv6 by its /64", () => {
    expect(clientId(from("203.0.113.9"), null)).toBe("address:203.0.113.9");
    expect(clientId(from("::ffff:203.0.113.9"), null)).toBe("address:203.0.113.9");
    expect(clientId(from("2001:db8:1:2:aaaa::1"), null)).toBe("address:2001:db8:1:2::/64");
    expect(clientId(from("2001:0db8:0001:0002:ffff:ffff:ffff:fffe"), null)).toBe("address:2001:db8:1:2::/64");
    expect(clientId(from("2001:db8::1"), null)).toBe("address:2001:db8:0:0::/64");
    expect(clientId(from("fe80::1%eth0"), null)).toBe("address:fe80:0:0:0::/64");
    // One address, however it is written.
    expect(clientId(from("0:0:0:0:0:ffff:203.0.113.9"), null)).toBe("address:203.0.113.9");
    expect(clientId(from("::ffff:cb00:7109"), null)).toBe("address:203.0.113.9");
    expect(clientId(from("1::2:3:4:5:1.2.3.4"), null)).toBe("address:1:0:2:3::/64");
    expect(clientId(from("2001:DB8:1:2::1"), null)).toBe("address:2001:db8:1:2::/64");
    expect(clientId(new Headers(), null)).toBe("address:unknown");
  });
});
