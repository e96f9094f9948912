// State-changing routes refuse what a browser sends on another site's behalf (a form or fetch from any page a
// colleague visits). Scripts send neither header and are unaffected; server actions have Next's own origin check.
import { AppError } from "@/lib/errors";
import { publicBaseUrl } from "@/lib/api/public-url";
import { env } from "@/lib/env";

export function assertNotCrossSite(request: Request): void {
  const fetchSite = request.headers.get("sec-fetch-site");
  if (fetchSite === "cross-site") throw crossSite();
  const origin = request.headers.get("origin");
  if (origin === null || fetchSite === "same-origin" || fetchSite === "none") return;
  if (origin === "null" || !allowedOrigins(request).has(origin)) throw crossSite();
}

/** PUBLIC_URL's origin when it is set; else the one the request was addressed to (an unreadable one allows none). */
function allowedOrigins(request: Request): Set<string> {
  const configured = env().publicUrl;
  try {
    return new Set([new URL(configured ?? publicBaseUrl(request)).origin]);
  } catch {
    return new Set();
  }
}

const crossSite = () => new AppError("forbidden", "Cross-site requests are refused: send this request from Hashscan's own pages or a script.");
