"use server";

import { headers } from "next/headers";
import { submitForm, type SubmitState } from "@/lib/jobs/submit-form";

export type { SubmitState };

/** The home page's form (lib/jobs/submit-form.ts). */
export async function submitHashes(_previous: SubmitState, form: FormData): Promise<SubmitState> {
  return submitForm(form, await headers());
}
