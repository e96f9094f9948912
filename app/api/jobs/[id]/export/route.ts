import { respond } from "@/lib/api/respond";
import { getDb } from "@/lib/db/client";
import { AppError } from "@/lib/errors";
import { exportQuerySchema } from "@/lib/jobs/api-schema";
import { exportResponse } from "@/lib/jobs/export";
import { findReportJob } from "@/lib/jobs/report";

export async function GET(request: Request, ctx: { params: Promise<{ id: string }> }) {
  return respond(async () => {
    const { id } = await ctx.params;
    const query = exportQuerySchema.safeParse(Object.fromEntries(new URL(request.url).searchParams));
    if (!query.success) throw new AppError("invalid_parameter", query.error.issues[0].message);
    const db = getDb();
    const job = await findReportJob(db, id);
    if (!job) throw new AppError("not_found", `No job with id ${JSON.stringify(id)}.`);
    return exportResponse(db, job, query.data);
  });
}
