"use client";
// The manage tokens this browser was given, one per job it created, in local storage apart from the recent-jobs
// list (whose size is capped and whose entries can be removed: neither may cost the creator the power to cancel).
import { useSyncExternalStore } from "react";

const KEY = "hashscan.manageTokens";
const MAX_KEPT = 1000;
const TOKEN = /^[\w-]{43}$/;
const listeners = new Set<() => void>();
let cached: { raw: string | null; tokens: Record<string, string> } = { raw: null, tokens: {} };

function readAll(): Record<string, string> {
  let raw: string | null = null;
  try {
    raw = globalThis.localStorage?.getItem(KEY) ?? null;
  } catch {
    return cached.tokens;
  }
  if (raw === cached.raw) return cached.tokens;
  let tokens: Record<string, string> = {};
  try {
    const value: unknown = raw === null ? {} : JSON.parse(raw);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      tokens = Object.fromEntries(Object.entries(value).filter(([id, token]) => /^[\w-]{22}$/.test(id) && typeof token === "string" && TOKEN.test(token)));
    }
  } catch {
    // unreadable: start again
  }
  cached = { raw, tokens };
  return tokens;
}

/** Keeps a job's token; a token already kept for the job is never replaced (a crafted link cannot swap it). */
export function saveManageToken(id: string, token: string): void {
  const tokens = readAll();
  if (tokens[id] || !TOKEN.test(token)) return;
  const entries = [...Object.entries(tokens), [id, token] as const].slice(-MAX_KEPT);
  try {
    localStorage.setItem(KEY, JSON.stringify(Object.fromEntries(entries)));
  } catch {
    cached = { raw: cached.raw, tokens: Object.fromEntries(entries) };
  }
  for (const listener of listeners) listener();
}

/** The token this browser holds for a job: undefined on the server, while hydrating, and when it holds none. */
export function useManageToken(id: string): string | undefined {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      const onStorage = (event: StorageEvent) => (event.key === KEY || event.key === null) && listener();
      window.addEventListener("storage", onStorage);
      return () => {
        listeners.delete(listener);
        window.removeEventListener("storage", onStorage);
      };
    },
    () => readAll()[id],
    () => undefined,
  );
}
