"use client";
// The API token of a deployment that requires one (API_TOKENS): asked for once on the home page, kept in this
// browser's local storage, sent with the form and with the report page's cancel and retry.
import { useSyncExternalStore } from "react";

const KEY = "hashscan.apiToken";
const listeners = new Set<() => void>();

export function readApiToken(): string {
  try {
    return globalThis.localStorage?.getItem(KEY) ?? "";
  } catch {
    return "";
  }
}

export function saveApiToken(token: string): void {
  try {
    if (token) localStorage.setItem(KEY, token);
    else localStorage.removeItem(KEY);
  } catch {
    // storage unavailable: the field still holds it for this page
  }
  for (const listener of listeners) listener();
}

/** Empty on the server and while hydrating, then the stored token. */
export function useApiToken(): string {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    readApiToken,
    () => "",
  );
}

/** The Authorization header to send, when this browser holds a token. */
export function authorization(): Record<string, string> {
  const token = readApiToken();
  return token ? { authorization: `Bearer ${token}` } : {};
}
