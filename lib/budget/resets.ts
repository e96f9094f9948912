/** VirusTotal's daily quotas reset at 00:00 UTC, monthly ones on the 1st. */
export function nextUtcResets(now: number): { day: Date; month: Date } {
  const d = new Date(now);
  return {
    day: new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1)),
    month: new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)),
  };
}
