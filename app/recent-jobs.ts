"use client";
// The jobs this browser has opened, kept in localStorage: there is no global list of jobs to show anyone.
// The most recently remembered job comes first; opening a job again moves it back to the top.
import { useSyncExternalStore } from "react";

export interface RecentJob {
  id: string;
  name: string | null;
  createdAt: string;
  total: number;
}

export const RECENT_JOBS_KEY = "hashscan.recentJobs";
export const MAX_RECENT_JOBS = 20;

const NONE: RecentJob[] = [];
const listeners = new Set<() => void>();
// Once storage refuses a write (disabled, full), this tab keeps its list in memory so it still sees its own jobs.
let memoryOnly = false;
let memory: RecentJob[] = NONE;
// The parsed list and the text it came from, so that an unchanged store gives React the same array.
let cached: { raw: string | null; jobs: RecentJob[] } = { raw: null, jobs: NONE };

/** The list as stored now; anything unreadable in it is dropped, never thrown. */
export function readRecentJobs(): RecentJob[] {
  if (memoryOnly) return memory;
  let raw: string | null;
  try {
    raw = globalThis.localStorage?.getItem(RECENT_JOBS_KEY) ?? null;
  } catch {
    return memory;
  }
  if (raw !== cached.raw) cached = { raw, jobs: parseStored(raw) };
  return cached.jobs;
}

export function rememberJob(job: RecentJob): void {
  const entry: RecentJob = { id: job.id, name: job.name, createdAt: job.createdAt, total: job.total };
  write([entry, ...readRecentJobs().filter((other) => other.id !== job.id)].slice(0, MAX_RECENT_JOBS));
}

export function forgetJob(id: string): void {
  const jobs = readRecentJobs();
  if (jobs.some((job) => job.id === id)) write(jobs.filter((job) => job.id !== id));
}

/** Empty on the server and while hydrating (so both renders agree), then the stored list, kept current. */
export function useRecentJobs(): RecentJob[] {
  return useSyncExternalStore(subscribe, readRecentJobs, () => NONE);
}

function write(jobs: RecentJob[]): void {
  memory = jobs;
  if (!memoryOnly) {
    try {
      globalThis.localStorage.setItem(RECENT_JOBS_KEY, JSON.stringify(jobs));
    } catch {
      memoryOnly = true;
    }
  }
  // The `storage` event only reaches other tabs; this one is told here.
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  // `key` is null when another tab cleared the whole store.
  const onStorage = (event: StorageEvent) => {
    if (event.key === RECENT_JOBS_KEY || event.key === null) listener();
  };
  listeners.add(listener);
  window.addEventListener("storage", onStorage);
  return () => {
    listeners.delete(listener);
    window.removeEventListener("storage", onStorage);
  };
}

function parseStored(raw: string | null): RecentJob[] {
  if (raw === null) return NONE;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return NONE;
  }
  if (!Array.isArray(value)) return NONE;
  const seen = new Set<string>();
  const jobs: RecentJob[] = [];
  for (const item of value) {
    if (!isRecentJob(item) || seen.has(item.id)) continue;
    seen.add(item.id);
    jobs.push({ id: item.id, name: item.name, createdAt: item.createdAt, total: item.total });
  }
  return jobs.slice(0, MAX_RECENT_JOBS);
}

function isRecentJob(value: unknown): value is RecentJob {
  if (typeof value !== "object" || value === null) return false;
  const { id, name, createdAt, total } = value as Record<string, unknown>;
  return (
    typeof id === "string" &&
    id !== "" &&
    (name === null || typeof name === "string") &&
    typeof createdAt === "string" &&
    !Number.isNaN(Date.parse(createdAt)) &&
    Number.isSafeInteger(total) &&
    (total as number) >= 0
  );
}
