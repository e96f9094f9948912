import { openApiDocument } from "@/lib/api/openapi";
import { publicBaseUrl } from "@/lib/api/public-url";
import { respond } from "@/lib/api/respond";

/** The OpenAPI 3.1 document of this API, with this deployment's address as its server. */
export async function GET(request: Request) {
  return respond(async () => Response.json(openApiDocument(publicBaseUrl(request)), { headers: { "cache-control": "no-cache" } }));
}
