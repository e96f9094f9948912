// State-changing routes refuse what a browser sends on another site's behalf (a form or fetch from any page a
// colleague visits). Scripts send neither header and are unaffected; server actions have Next's own origin check.
import { AppError } from "@/lib/errors";
import { publicBaseUrl } from "@/lib/api/public-url";

export function assertNotCrossSite(request: Request): void {
  const fetchSite = request.headers.get("sec-fetch-site");
  if (fetchSite === "cross-site") throw crossSite();
  const origin = request.headers.get("origin");
  if (origin === null || fetchSite === "same-origin" || fetchSite === "none") return;
  const allowed = new Set([new URL(request.url).origin, new URL(publicBaseUrl(request)).origin]);
  if (origin === "null" || !allowed.has(origin)) throw crossSite();
}

const crossSite = () => new AppError("forbidden", "Cross-site requests are refused: send this request from Hashscan's own pages or a script.");
