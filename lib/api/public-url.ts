import { env } from "@/lib/env";

/** Absolute base URL for links we hand out: PUBLIC_URL when set, otherwise what the request was addressed to. */
export function publicBaseUrl(request: Request): string {
  const configured = env().publicUrl;
  if (configured) return configured;
  const url = new URL(request.url);
  const host = request.headers.get("x-forwarded-host") ?? request.headers.get("host") ?? url.host;
  const proto = request.headers.get("x-forwarded-proto") ?? url.protocol.replace(":", "");
  return `${proto}://${host}`;
}
