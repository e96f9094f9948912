import { respond } from "@/lib/api/respond";
import { getDb } from "@/lib/db/client";
import { cachedServiceStatus } from "@/lib/jobs/service-status";

export async function GET() {
  return respond(async () => Response.json(await cachedServiceStatus(getDb()), { headers: { "cache-control": "no-store" } }));
}
