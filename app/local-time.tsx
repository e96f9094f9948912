"use client";

import { useSyncExternalStore } from "react";
import { formatLocal, formatUtc } from "./local-time-format";

const noSubscription = () => () => {};

/** False on the server and while hydrating, true after: the viewer's zone is only known in their browser. */
export function useHydrated(): boolean {
  return useSyncExternalStore(
    noSubscription,
    () => true,
    () => false,
  );
}

/** A timestamp in UTC as the server renders it, then in the viewer's zone (the UTC time stays in the tooltip). */
export function LocalTime({ iso }: { iso: string }) {
  const hydrated = useHydrated();
  const date = new Date(iso);
  const utc = formatUtc(date);
  return (
    <time dateTime={iso} title={utc}>
      {hydrated ? formatLocal(date) : utc}
    </time>
  );
}
