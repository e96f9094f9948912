import { readJobInput } from "@/lib/api/job-input";
import { publicBaseUrl } from "@/lib/api/public-url";
import { respond } from "@/lib/api/respond";
import { getDb } from "@/lib/db/client";
import type { CreateJobResponse } from "@/lib/jobs/api-schema";
import { createJob } from "@/lib/jobs/create";
import { createJobOptions } from "@/lib/jobs/settings";

export async function POST(request: Request) {
  return respond(async () => {
    const input = await readJobInput(request);
    const job = await createJob(getDb(), input, createJobOptions());
    const base = publicBaseUrl(request);
    const body: CreateJobResponse = {
      id: job.id,
      url: `${base}/jobs/${job.id}`,
      statusUrl: `${base}/api/jobs/${job.id}`,
      accepted: job.accepted,
      duplicates: job.duplicates,
      invalid: job.invalid,
      invalidCount: job.invalidCount,
    };
    return Response.json(body, { status: 201, headers: { location: body.url } });
  });
}
