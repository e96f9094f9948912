import { manageTokenFor } from "@/lib/access/manage-token";
import { appSecret } from "@/lib/access/secret";
import { apiTokensRequired, assertApiToken, bearerToken } from "@/lib/access/api-tokens";
import { clientId } from "@/lib/access/client";
import { assertWithinClientLimits } from "@/lib/access/client-limits";
import { assertNotCrossSite } from "@/lib/access/same-site";
import { idempotencyKeyOf } from "@/lib/api/idempotency-key";
import { readJobInput } from "@/lib/api/job-input";
import { publicBaseUrl } from "@/lib/api/public-url";
import { respond } from "@/lib/api/respond";
import { getDb } from "@/lib/db/client";
import { findKeptRequest } from "@/lib/db/queries/idempotency";
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
    const key = idempotencyKeyOf(request.headers);
    const client = clientId(request.headers, apiTokensRequired() ? token : null);
    // A client already past its limits is refused before its body is read (createJob checks again, under its lock),
    // unless it is sending again a request whose job it already has: that costs it nothing.
    if (!key || !(await findKeptRequest(getDb(), client, key))) {
      await assertWithinClientLimits(getDb(), client, 1, env().clientLimits);
    }
    const { requestDigest, ...input } = await readJobInput(request, env().jobMaxHashes, { digest: key !== null });
    const idempotency = key && requestDigest ? { key, requestDigest } : undefined;
    const job = await createJob(getDb(), input, { ...createJobOptions(client), idempotency });
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
    const headers = new Headers({ location: body.url });
    if (job.replayed) headers.set("idempotent-replayed", "true");
    return Response.json(body, { status: 201, headers });
  });
}
