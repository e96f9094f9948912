// The home page form's submission: what app/actions.ts's server action does, given the request's headers (the
// action itself only reads them, which needs Next's request scope).
import { apiTokensRequired, assertApiToken } from "@/lib/access/api-tokens";
import { clientId } from "@/lib/access/client";
import { assertWithinClientLimits } from "@/lib/access/client-limits";
import { manageTokenFor } from "@/lib/access/manage-token";
import { appSecret } from "@/lib/access/secret";
import { parseName } from "@/lib/api/job-body";
import { readJobBodyOffThread } from "@/lib/api/parse-off-thread";
import { getDb } from "@/lib/db/client";
import { toAppError } from "@/lib/errors";
import { createJob } from "@/lib/jobs/create";
import { MAX_UPLOAD_BYTES, MAX_UPLOAD_LABEL } from "@/lib/jobs/upload-limits";
import { newJobId } from "@/lib/jobs/job-id";
import { createJobOptions } from "@/lib/jobs/settings";
import { env } from "@/lib/env";
import { log } from "@/lib/log";

export type SubmitState = { ok: false; error: string } | { ok: true; id: string; manageToken: string } | null;

/** The home page's form: a file or pasted text, and an optional name. Mistakes come back as a result, not a throw. */
export async function submitForm(form: FormData, requestHeaders: Headers): Promise<SubmitState> {
  const file = form.get("file");
  const text = form.get("text");
  const pasted = typeof text === "string" ? text : "";
  const hasFile = file instanceof File && file.size > 0;

  if (hasFile && pasted.trim() !== "") return { ok: false, error: "Choose a file or paste hashes, not both." };
  if (!hasFile && pasted.trim() === "") return { ok: false, error: "Choose a file or paste some hashes." };
  const size = hasFile ? file.size : Buffer.byteLength(pasted);
  if (size > MAX_UPLOAD_BYTES) return { ok: false, error: `The upload is larger than ${MAX_UPLOAD_LABEL}.` };

  let id: string;
  try {
    // With API_TOKENS set, the page sends the token this browser was given (asked for once, kept locally).
    const apiToken = form.get("apiToken");
    const token = typeof apiToken === "string" ? apiToken : null;
    assertApiToken(token);
    const name = parseName(form.get("name") as string | null);
    appSecret(); // before anything is written: a job whose token cannot be made must not be created
    const client = clientId(requestHeaders, apiTokensRequired() ? token : null);
    await assertWithinClientLimits(getDb(), client, 1, env().clientLimits);
    const bytes = hasFile ? new Uint8Array(await file.arrayBuffer()) : new TextEncoder().encode(pasted);
    const { upload } = await readJobBodyOffThread({ kind: "text", bytes, jobId: newJobId(), maxHashes: env().jobMaxHashes });
    ({ id } = await createJob(getDb(), { upload, name }, createJobOptions(client)));
  } catch (error) {
    const appError = toAppError(error);
    if (appError.status >= 500) log.error({ err: error }, "the form's submission failed");
    return { ok: false, error: appError.message };
  }
  // The form keeps the manage token in this browser, then opens the report: the token is in no address, history
  // entry or redirect header.
  return { ok: true, id, manageToken: manageTokenFor(id) };
}
