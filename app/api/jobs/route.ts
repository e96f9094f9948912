import { manageTokenFor } from "@/lib/access/manage-token";
import { appSecret } from "@/lib/access/secret";
import { apiTokensRequired, assertApiToken, bearerToken } from "@/lib/access/api-tokens";
import { clientId } from "@/lib/access/client";
import { assertWithinClientLimits } from "@/lib/access/client-limits";
import { assertNotCrossSite } from "@/lib/access/same-site";
import { readJobInput } from "@/lib/api/job-input";
import { publicBaseUrl } from "@/lib/api/public-url";
import { respond } from "@/lib/api/respond";
import { getDb } from "@/lib/db/client";
import type { CreateJobResponse } from "@/lib/jobs/api-schema";
import { createJob } from "@/lib/jobs/create";
import { createJobOptions } from "@/lib/jobs/settings";
import { env } from "@/lib/env";

export async function POST(request: Request) {
  return respond(async () => {
    assertNotCrossSite(request);
    const token = bearerToken(request);
    assertApiToken(token);
    appSecret(); // before anything is written: a job whose token cannot be made must not be created
    // A client already past its limits is refused before its body is read; createJob checks again, under its lock.
    const client = clientId(request.headers, apiTokensRequired() ? token : null);
    await assertWithinClientLimits(getDb(), client, 1, env().clientLimits);
    const input = await readJobInput(request, env().jobMaxHashes);
    const job = await createJob(getDb(), input, createJobOptions(client));
    const base = publicBaseUrl(request);
    const body: CreateJobResponse = {
      id: job.id,
      url: `${base}/jobs/${job.id}`,
      statusUrl: `${base}/api/jobs/${job.id}`,
      accepted: job.accepted,
      duplicates: job.duplicates,
      invalid: job.invalid,
      invalidCount: job.invalidCount,
      manageToken: manageTokenFor(job.id),
    };
    return Response.json(body, { status: 201, headers: { location: body.url } });
  });
}
