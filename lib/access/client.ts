// Who a request comes from, for the per-client limits and the queue's fair shares: the API token where API_TOKENS
// is set, else the address the deployment sees. The address comes from our own HTTP server (scripts/web.ts), which
// writes CLIENT_ADDRESS_HEADER on every request and drops any copy a client sent: Next's own server keeps a
// client's X-Forwarded-For as it came, so that header alone could name anyone.
import { createHash } from "node:crypto";
import { isIPv6 } from "node:net";

export const CLIENT_ADDRESS_HEADER = "x-hashscan-client-address";

/**
 * The client's address from the peer's (`socketAddress`) and the X-Forwarded-For chain, trusting the last
 * `trustedHops` hops to be our own proxies: each of them appended the address it saw. Without trusted hops the
 * header is ignored, as anyone can send it.
 */
export function clientAddress(socketAddress: string | undefined, forwardedFor: string | undefined, trustedHops: number): string {
  const chain = trustedHops > 0 ? (forwardedFor ?? "").split(",").map((entry) => entry.trim()).filter(Boolean) : [];
  chain.push(socketAddress ?? "unknown");
  return chain[Math.max(0, chain.length - 1 - trustedHops)];
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
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1];
  if (!isIPv6(address)) return address;
  return `${expandIPv6(address).slice(0, 4).join(":")}::/64`;
}

/** The eight groups of an IPv6 address, zone dropped, each without leading zeros. */
function expandIPv6(address: string): string[] {
  const [head, tail = ""] = address.split("%")[0].toLowerCase().split("::");
  const left = head ? head.split(":") : [];
  const right = address.includes("::") && tail ? tail.split(":") : [];
  const groups = address.includes("::") ? [...left, ...Array(8 - left.length - right.length).fill("0"), ...right] : left;
  return groups.map((group) => group.replace(/^0+(?=.)/, ""));
}
