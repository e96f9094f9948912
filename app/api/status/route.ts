import { respond } from "@/lib/api/respond";
import { getDb } from "@/lib/db/client";
import { getServiceStatus } from "@/lib/jobs/service-status";

export async function GET() {
  return respond(async () => Response.json(await getServiceStatus(getDb()), { headers: { "cache-control": "no-store" } }));
}
