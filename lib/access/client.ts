// Who a request comes from, for the per-client limits and the queue's fair shares: the API token where API_TOKENS
// is set, else the address the deployment sees. The address comes from our own HTTP server (scripts/web.ts), which
// writes CLIENT_ADDRESS_HEADER on every request and drops any copy a client sent: Next's own server keeps a
// client's X-Forwarded-For as it came, so that header alone could name anyone.
import { createHash } from "node:crypto";
import { isIP, isIPv4, isIPv6 } from "node:net";

export const CLIENT_ADDRESS_HEADER = "x-hashscan-client-address";

/**
 * The client's address from the peer's (`socketAddress`) and the X-Forwarded-For chain, trusting the last
 * `trustedHops` hops to be our own proxies: each of them appended the address it saw. Without trusted hops the
 * header is ignored, as anyone can send it. An entry that is not an address (a port is dropped) names the peer:
 * made-up values must not each make a client of their own.
 */
export function clientAddress(socketAddress: string | undefined, forwardedFor: string | undefined, trustedHops: number): string {
  const peer = socketAddress ?? "unknown";
  const chain = trustedHops > 0 ? (forwardedFor ?? "").split(",").map((entry) => entry.trim()).filter(Boolean) : [];
  chain.push(peer);
  return addressIn(chain[Math.max(0, chain.length - 1 - trustedHops)]) ?? peer;
}

/** The address in a forwarded entry (`[v6]:port` and `v4:port` lose their port), or null when it holds none. */
function addressIn(entry: string): string | null {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(entry);
  const address = bracketed ? bracketed[1] : /^[\d.]+:\d+$/.test(entry) ? entry.slice(0, entry.lastIndexOf(":")) : entry;
  return isIP(address.split("%")[0]) ? address : null;
}

/**
 * A stable id for the client: `token:` and a digest of its API token (never the token), or `address:` and its
 * address, an IPv6 one cut to its /64 (one host holds a whole /64 and may use any address in it).
 */
export function clientId(headers: Headers, apiToken: string | null | undefined): string {
  if (apiToken) return `token:${createHash("sha256").update(apiToken).digest("hex").slice(0, 32)}`;
  return `address:${networkOf(headers.get(CLIENT_ADDRESS_HEADER) ?? "unknown")}`;
}

function networkOf(address: string): string {
  const bare = address.split("%")[0];
  if (isIPv4(bare) || !isIPv6(bare)) return bare;
  // The URL parser writes an IPv6 address one way only: lower case, zeros compressed, no dotted quad.
  const canonical = new URL(`http://[${bare}]`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (mapped) {
    const [high, low] = [parseInt(mapped[1], 16), parseInt(mapped[2], 16)];
    return [high >> 8, high & 255, low >> 8, low & 255].join(".");
  }
  return `${groupsOf(canonical).slice(0, 4).join(":")}::/64`;
}

/** The eight groups of a canonical IPv6 address. */
function groupsOf(canonical: string): string[] {
  if (!canonical.includes("::")) return canonical.split(":");
  const [head, tail] = canonical.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  return [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right];
}
