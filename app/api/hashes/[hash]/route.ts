import { assertApiToken, bearerToken } from "@/lib/access/api-tokens";
import { respond } from "@/lib/api/respond";
import { getDb } from "@/lib/db/client";
import { readCachedReport } from "@/lib/jobs/cached-report";
import { cachePolicy } from "@/lib/jobs/settings";

/**
 * The cached report of one file, by any of its names; never a request to VirusTotal. Behind the API token where
 * API_TOKENS is set: which files were asked about is the organisation's business.
 */
export async function GET(request: Request, ctx: { params: Promise<{ hash: string }> }) {
  return respond(async () => {
    assertApiToken(bearerToken(request));
    const { hash } = await ctx.params;
    const report = await readCachedReport(getDb(), hash, cachePolicy());
    return Response.json(report, { headers: { "cache-control": "private, no-store" } });
  });
}
