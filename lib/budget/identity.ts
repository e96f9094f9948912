// Whose quota a request spends. Each budget is one key's quota: `simulator`, or `vt:<fingerprint of the key>`
// (never the key itself), so that trying the simulator, or an old key, spends nothing of a new key's quota.
import { createHash } from "node:crypto";
import { env, type Env } from "@/lib/env";

export function requestBudget(e: Env = env()): string {
  if (e.vt.source === "simulator") return "simulator";
  return `vt:${createHash("sha256").update(e.vt.apiKey).digest("hex").slice(0, 16)}`;
}
