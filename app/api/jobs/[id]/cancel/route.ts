import { assertCanManage } from "@/lib/access/manage-token";
import { assertApiToken, bearerToken } from "@/lib/access/api-tokens";
import { assertNotCrossSite } from "@/lib/access/same-site";
import { respond } from "@/lib/api/respond";
import { getDb } from "@/lib/db/client";
import { cancelJob } from "@/lib/jobs/manage";

/** Ends the job's pending tasks as cancelled; lookups no other job needs leave the queue. */
export async function POST(request: Request, ctx: { params: Promise<{ id: string }> }) {
  return respond(async () => {
    const { id } = await ctx.params;
    assertNotCrossSite(request);
    assertApiToken(bearerToken(request));
    assertCanManage(request, id);
    return Response.json(await cancelJob(getDb(), id));
  });
}
