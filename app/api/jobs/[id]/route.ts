import { respond } from "@/lib/api/respond";
import { getDb } from "@/lib/db/client";
import { AppError } from "@/lib/errors";
import { reportQuerySchema } from "@/lib/jobs/api-schema";
import { getJobReport } from "@/lib/jobs/report";

export async function GET(request: Request, ctx: { params: Promise<{ id: string }> }) {
  return respond(async () => {
    const { id } = await ctx.params;
    const params = Object.fromEntries(new URL(request.url).searchParams);
    const query = reportQuerySchema.safeParse(params);
    if (!query.success) throw new AppError("invalid_parameter", query.error.issues[0].message);
    const report = await getJobReport(getDb(), id, query.data);
    if (!report) throw new AppError("not_found", `No job with id ${id}.`);
    return Response.json(report, { headers: { "cache-control": "no-store" } });
  });
}
