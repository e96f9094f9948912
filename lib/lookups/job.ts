// The lookup queue job's contract, in one place: its task name, key, flags and payload. The enqueue SQL
// (lib/db/queries/queue.ts) and the task (worker/tasks/lookup.ts) both import it from here.
import { z } from "zod";
import { PAUSE_CAUSES } from "@/lib/db/schema/virustotal";

export const LOOKUP_TASK = "lookup";

/** Jobs carrying this flag spend VirusTotal requests; a worker whose budget is closed leaves them queued. */
export const VT_FLAG = "vt";

/**
 * Instead of VT_FLAG, on lookups the full window sent back to the queue with a wake time: the slot they wake for
 * is theirs, so a worker closed only for the window still fetches them when due; a pause keeps them queued too.
 */
export const VT_WAKE_FLAG = "vt-wake";

/** One queue job per name: every job that asks for a hash shares it, keyed `lookup:<hash>`. */
export const LOOKUP_KEY_PREFIX = `${LOOKUP_TASK}:`;
export function lookupJobKey(hash: string): string {
  return LOOKUP_KEY_PREFIX + hash;
}

export const hashNameSchema = z.string().regex(/^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64})$/);

/**
 * What a lookup waiting in the queue waits for, so that whoever ends that wait can wake exactly those lookups:
 * a budget's pause (a worker start ending a rejected key's pause), a slot in a budget's window, the lease another
 * lookup holds on the same name (its holder wakes it when done), or a backoff after a transient failure (nobody).
 */
export const lookupWaitSchema = z.discriminatedUnion("for", [
  z.object({ for: z.literal("pause"), budget: z.string(), cause: z.enum(PAUSE_CAUSES) }),
  z.object({ for: z.literal("window"), budget: z.string() }),
  z.object({ for: z.literal("lease") }),
  z.object({ for: z.literal("backoff") }),
]);
export type LookupWait = z.infer<typeof lookupWaitSchema>;

/** The flag a queued lookup carries while it waits for `wait`. */
export function lookupFlag(wait: LookupWait | undefined): typeof VT_FLAG | typeof VT_WAKE_FLAG {
  return wait?.for === "window" ? VT_WAKE_FLAG : VT_FLAG;
}

export const lookupPayloadSchema = z.object({
  hash: hashNameSchema,
  /** Our own attempt count: waiting for a slot, a pause or a lease is not an attempt; a failure is. */
  attempt: z.number().int().positive().default(1),
  waitingFor: lookupWaitSchema.optional(),
});
export type LookupPayload = z.infer<typeof lookupPayloadSchema>;

declare global {
  namespace GraphileWorker {
    interface Tasks {
      // What may be queued: `attempt` defaults to 1.
      lookup: z.input<typeof lookupPayloadSchema>;
    }
  }
}
