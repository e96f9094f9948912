// When a job should be done: the lookups ahead of its last one spent at the allowed rate, after any pause, within
// the daily and monthly quotas, walked one UTC day at a time.
import { nextUtcResets } from "@/lib/budget/resets";

export interface EtaInput {
  now: Date;
  lookupsAhead: number;
  pausedUntil: Date | null;
  perMinute: number;
  windowSeconds: number;
  perDay: number;
  usedToday: number;
  perMonth: number;
  usedThisMonth: number;
}

/**
 * "Done" is the moment the last lookup is sent: lookups go out back to back, one interval apart, the first at the
 * start, and each counts against the UTC day and month in which it is sent. Null when a limit of 0 means never.
 */
export function estimateCompletion(input: EtaInput): Date | null {
  const { lookupsAhead, perMinute, perDay, perMonth } = input;
  const start = Math.max(input.now.getTime(), input.pausedUntil?.getTime() ?? 0);
  if (lookupsAhead <= 0) return new Date(start);
  if (perMinute <= 0 || perDay <= 0 || perMonth <= 0) return null;

  const msPerLookup = (input.windowSeconds * 1000) / perMinute;
  // The ends of the day and month that leftToday and leftThisMonth count: now's at first, so a start past their
  // reset finds fresh quotas.
  let counted = nextUtcResets(input.now.getTime());
  let leftToday = Math.max(0, perDay - input.usedToday);
  let leftThisMonth = Math.max(0, perMonth - input.usedThisMonth);
  let left = lookupsAhead;
  let at = start; // when the next lookup may be sent

  // Every pass ends the day at `at` (by rate or quota) and moves past its reset, and every day with quota left
  // sends at least one lookup, so the walk takes about one pass per day of sending, plus one per month reset.
  for (;;) {
    const resets = nextUtcResets(at);
    if (resets.day > counted.day) leftToday = perDay;
    if (resets.month > counted.month) leftThisMonth = perMonth;
    counted = resets;

    const fitByRate = Math.ceil((resets.day.getTime() - at) / msPerLookup);
    const sent = Math.min(left, fitByRate, leftToday, leftThisMonth);
    if (sent === left) return new Date(at + (left - 1) * msPerLookup);

    left -= sent;
    leftToday -= sent;
    leftThisMonth -= sent;
    const nextReset = leftThisMonth === 0 ? resets.month : resets.day;
    at = Math.max(at + sent * msPerLookup, nextReset.getTime());
  }
}
