import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

const KEY = "hashscan.manageTokens";
const id = (n: number) => `job${String(n).padStart(19, "0")}`;
const token = (c: string) => c.repeat(43);

let items: Map<string, string>;
beforeEach(() => {
  items = new Map();
  vi.stubGlobal("localStorage", {
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => void items.set(key, value),
  });
});
afterEach(() => vi.unstubAllGlobals());

async function load() {
  vi.resetModules();
  return import("./manage-tokens");
}

describe("manage tokens kept in this browser", () => {
  it("keep the first token given for a job: a crafted link cannot replace it", async () => {
    const { saveManageToken } = await load();
    saveManageToken(id(1), token("a"));
    saveManageToken(id(1), token("b"));
    expect(JSON.parse(items.get(KEY)!)).toEqual({ [id(1)]: token("a") });
  });

  it("refuse what is not a token, and ignore unreadable storage", async () => {
    const { saveManageToken } = await load();
    saveManageToken(id(2), "short");
    saveManageToken(id(2), `${token("c").slice(1)}!`);
    expect(items.get(KEY)).toBeUndefined();
    items.set(KEY, "not json");
    saveManageToken(id(3), token("d"));
    expect(JSON.parse(items.get(KEY)!)).toEqual({ [id(3)]: token("d") });
  });

  it("are not dropped by the recent-jobs list's cap: a thousand are kept", async () => {
    const { saveManageToken } = await load();
    for (let n = 0; n < 1005; n++) saveManageToken(id(n), token("e"));
    const kept = JSON.parse(items.get(KEY)!);
    expect(Object.keys(kept)).toHaveLength(1000);
    expect(kept[id(4)]).toBeUndefined();
    expect(kept[id(1004)]).toBe(token("e"));
  });
});
