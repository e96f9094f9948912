import { assertCanManage } from "@/lib/access/manage-token";
import { assertApiToken, bearerToken } from "@/lib/access/api-tokens";
import { assertNotCrossSite } from "@/lib/access/same-site";
import { respond } from "@/lib/api/respond";
import { getDb } from "@/lib/db/client";
import { env } from "@/lib/env";
import { retryFailedTasks } from "@/lib/jobs/manage";

/** Puts the job's failed tasks back in the queue. */
export async function POST(request: Request, ctx: { params: Promise<{ id: string }> }) {
  return respond(async () => {
    const { id } = await ctx.params;
    assertNotCrossSite(request);
    assertApiToken(bearerToken(request));
    assertCanManage(request, id);
    return Response.json(await retryFailedTasks(getDb(), id, env().lookupMaxAttempts));
  });
}
