import { env } from "@/lib/env";

/** Absolute base URL for links we hand out: PUBLIC_URL when set, otherwise what the request was addressed to. */
export function publicBaseUrl(request: Request): string {
  return publicBaseUrlOf(request.headers, new URL(request.url));
}

/** The same from the request's headers alone (a page has them from next/headers, not its URL): the Host names it. */
export function publicBaseUrlOf(headers: Pick<Headers, "get">, url?: URL): string {
  const configured = env().publicUrl;
  if (configured) return configured;
  const host = headers.get("x-forwarded-host") ?? headers.get("host") ?? url?.host ?? "localhost";
  const proto = headers.get("x-forwarded-proto") ?? url?.protocol.replace(":", "") ?? "http";
  return `${proto}://${host}`;
}
