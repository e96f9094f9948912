// When a job should be done: its place in the queue spent at the allowed rate, after any pause, within the
// daily quota (a day's worth past it waits for the next UTC day).

export interface EtaInput {
  now: Date;
  lookupsAhead: number;
  pausedUntil: Date | null;
  perMinute: number;
  windowSeconds: number;
  perDay: number;
  usedToday: number;
  nextDayReset: Date;
}

export function estimateCompletion(input: EtaInput): Date {
  const msPerLookup = (input.windowSeconds * 1000) / input.perMinute;
  let at = Math.max(input.now.getTime(), input.pausedUntil?.getTime() ?? 0);
  let left = input.lookupsAhead;
  const leftToday = Math.max(0, input.perDay - input.usedToday);
  if (left <= leftToday) return new Date(at + left * msPerLookup);

  left -= leftToday;
  at = Math.max(at, input.nextDayReset.getTime());
  const fullDays = Math.floor(left / input.perDay);
  at += fullDays * 86_400_000;
  left -= fullDays * input.perDay;
  return new Date(at + left * msPerLookup);
}
