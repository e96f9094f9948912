// GET /api/status as one React Query entry: the strip under every page and the queue page share its cache.
import { queryOptions } from "@tanstack/react-query";
import type { ServiceStatus } from "@/lib/jobs/api-schema";

async function fetchServiceStatus(): Promise<ServiceStatus> {
  const response = await fetch("/api/status", { cache: "no-store" });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.json();
}

export const serviceStatusQuery = queryOptions({ queryKey: ["status"], queryFn: fetchServiceStatus });
