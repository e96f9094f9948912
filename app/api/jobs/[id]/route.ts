import { respond } from "@/lib/api/respond";
import { getDb } from "@/lib/db/client";
import { AppError } from "@/lib/errors";
import { reportQuerySchema } from "@/lib/jobs/api-schema";
import { planReport, readJobReport, readReportEtag } from "@/lib/jobs/report";

// Pollers revalidate: a weak ETag from the job's change version, and 304 while nothing changed. `private`: a
// report is for whoever holds its link, never for a shared cache.
const CACHE_CONTROL = "private, no-cache";

export async function GET(request: Request, ctx: { params: Promise<{ id: string }> }) {
  return respond(async () => {
    const { id } = await ctx.params;
    const params = Object.fromEntries(new URL(request.url).searchParams);
    const query = reportQuerySchema.safeParse(params);
    if (!query.success) throw new AppError("invalid_parameter", query.error.issues[0].message);
    const plan = planReport(query.data);
    const db = getDb();
    const notFound = () => new AppError("not_found", `No job with id ${JSON.stringify(id)}.`);

    // A change feed's response is never revalidated: its rows depend on the transactions running when it is read,
    // which no ETag captures (an unchanged job can still owe rows to a window not yet open).
    const ifNoneMatch = plan.since ? null : request.headers.get("if-none-match");
    if (ifNoneMatch) {
      const etag = await readReportEtag(db, id);
      if (!etag) throw notFound();
      if (matches(ifNoneMatch, etag)) return new Response(null, { status: 304, headers: { etag, "cache-control": CACHE_CONTROL } });
    }
    const read = await readJobReport(db, id, plan);
    if (!read) throw notFound();
    if (plan.since) return Response.json(read.report, { headers: { "cache-control": "private, no-store" } });
    return Response.json(read.report, { headers: { etag: read.etag, "cache-control": CACHE_CONTROL } });
  });
}

/** If-None-Match holds `*` or a list of tags; weak comparison, as RFC 9110 asks for GET. */
function matches(header: string, etag: string): boolean {
  const bare = (tag: string) => tag.trim().replace(/^W\//, "");
  return header.split(",").some((tag) => tag.trim() === "*" || bare(tag) === bare(etag));
}
