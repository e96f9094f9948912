import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { RecentJob } from "./recent-jobs";

// The module keeps per-page state (its cache, whether storage failed): each test loads a fresh copy.
async function load() {
  vi.resetModules();
  return import("./recent-jobs");
}

class MemoryStorage {
  items = new Map<string, string>();
  getItem(key: string) {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string) {
    this.items.set(key, value);
  }
}

const job = (n: number, extra: Partial<RecentJob> = {}): RecentJob => ({
  id: `job${n}`,
  name: `Job ${n}`,
  createdAt: new Date(Date.UTC(2025, 0, 1, 0, n)).toISOString(),
  total: n,
  ...extra,
});

let storage: MemoryStorage;
beforeEach(() => {
  storage = new MemoryStorage();
  vi.stubGlobal("localStorage", storage);
});
afterEach(() => vi.unstubAllGlobals());

describe("rememberJob", () => {
  it("puts the latest first, moves a job seen again to the top, and keeps 20", async () => {
    const { rememberJob, readRecentJobs } = await load();
    for (let n = 1; n <= 25; n++) rememberJob(job(n));
    rememberJob(job(10, { total: 99 }));
    const jobs = readRecentJobs();
    expect(jobs).toHaveLength(20);
    expect(jobs[0]).toEqual(job(10, { total: 99 }));
    expect(jobs.slice(1, 4).map((j) => j.id)).toEqual(["job25", "job24", "job23"]);
    expect(jobs.filter((j) => j.id === "job10")).toHaveLength(1);
    expect(JSON.parse(storage.getItem("hashscan.recentJobs")!)).toEqual(jobs);
  });

  it("stores only the four fields", async () => {
    const { rememberJob, readRecentJobs } = await load();
    rememberJob({ ...job(1), status: "running" } as RecentJob);
    expect(readRecentJobs()).toEqual([job(1)]);
  });

  it("keeps the list in memory when storage refuses writes", async () => {
    const { rememberJob, forgetJob, readRecentJobs } = await load();
    storage.setItem = () => {
      throw new DOMException("full", "QuotaExceededError");
    };
    rememberJob(job(1));
    rememberJob(job(2));
    forgetJob("job1");
    expect(readRecentJobs()).toEqual([job(2)]);
  });

  it("works without storage at all", async () => {
    vi.stubGlobal("localStorage", undefined);
    const { rememberJob, readRecentJobs } = await load();
    rememberJob(job(1));
    expect(readRecentJobs()).toEqual([job(1)]);
  });
});

describe("readRecentJobs", () => {
  it("is empty when nothing is stored", async () => {
    const { readRecentJobs } = await load();
    expect(readRecentJobs()).toEqual([]);
  });

  it.each(["not json", "{}", "null", '"text"'])("is empty for unreadable content %s", async (raw) => {
    storage.setItem("hashscan.recentJobs", raw);
    const { readRecentJobs } = await load();
    expect(readRecentJobs()).toEqual([]);
  });

  it("drops malformed and repeated entries and keeps the rest", async () => {
    const bad = [null, 1, { id: "" }, { ...job(3), total: -1 }, { ...job(4), createdAt: "yesterday" }, { ...job(5), name: 5 }];
    storage.setItem("hashscan.recentJobs", JSON.stringify([job(1), ...bad, { ...job(1), total: 7 }, job(2, { name: null })]));
    const { readRecentJobs } = await load();
    expect(readRecentJobs()).toEqual([job(1), job(2, { name: null })]);
  });

  it("returns the same array while the store is unchanged", async () => {
    const { rememberJob, readRecentJobs } = await load();
    rememberJob(job(1));
    expect(readRecentJobs()).toBe(readRecentJobs());
  });

  it("is empty when reading storage throws", async () => {
    storage.getItem = () => {
      throw new DOMException("denied", "SecurityError");
    };
    const { readRecentJobs } = await load();
    expect(readRecentJobs()).toEqual([]);
  });
});

describe("forgetJob", () => {
  it("removes one job and leaves an unknown id alone", async () => {
    const { rememberJob, forgetJob, readRecentJobs } = await load();
    rememberJob(job(1));
    rememberJob(job(2));
    forgetJob("job1");
    forgetJob("nope");
    expect(readRecentJobs()).toEqual([job(2)]);
  });
});
