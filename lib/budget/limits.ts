// The request limits a budget is held to, from the configuration.
import { env, type Env } from "@/lib/env";

export interface RequestLimits {
  perMinute: number;
  perDay: number;
  perMonth: number;
  /** The sliding window's length: 60 s in production, shorter in tests. */
  windowSeconds: number;
}

export function requestLimits(e: Env = env()): RequestLimits {
  return {
    perMinute: e.vt.requestsPerMinute,
    perDay: e.vt.requestsPerDay,
    perMonth: e.vt.requestsPerMonth,
    windowSeconds: e.vt.windowSeconds,
  };
}

/** VirusTotal counts a request when it arrives; a second of margin keeps latency jitter from crossing its window. */
export const WINDOW_MARGIN_SECONDS = 1;

/** The window a claim is checked against: the configured one plus the margin. */
export function effectiveWindowMs(limits: RequestLimits): number {
  return (limits.windowSeconds + WINDOW_MARGIN_SECONDS) * 1000;
}
