// A lookup's look and claim (worker/look-and-claim.ts): the cache, the name's lease and a free request slot, in one
// statement. Each way it can end, including an answer or a cancellation that arrives while it waits for the budget's
// lock. (The settle, a lookup's other statement, and its edges: settle-statement.test.ts.)
import { createHash } from "node:crypto";
import type { JobHelpers } from "graphile-worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RequestLimits } from "../../lib/budget/limits";
import { recordNotFound, saveReport } from "../../lib/db/queries/reports";
import { createJob } from "../../lib/jobs/create";
import type { ReportSummary } from "../../lib/virustotal";
import { createBudgetGate } from "../../lib/budget/gate";
import { lookAndClaim } from "../../worker/look-and-claim";
import { createLookupTask, type LookupDeps } from "../../worker/tasks/lookup";
import { createTestDatabase, type TestDatabase } from "./helpers/test-database";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase("first_trip");
});
afterAll(async () => t?.drop());

const md5 = (label: string) => createHash("md5").update(label).digest("hex");
const cache = { ttlHours: 24, sources: ["simulator"] as const };
const roomy: RequestLimits = { perMinute: 1000, perDay: 10_000, perMonth: 100_000, windowSeconds: 60 };
const deps = (budget: string, limits = roomy) => ({ db: t.db, cache, budget, limits, leaseSeconds: 60 });
const fileOf = (hash: string): ReportSummary => ({
  sha256: hash.padEnd(64, "2"), md5: hash, sha1: hash.padEnd(40, "1"), fortinet: "W32/Test", fortinetCategory: "malicious",
  detected: 5, engines: 70, scanDate: new Date("2026-11-30T10:00:00Z"), meaningfulName: "a.exe", fileType: "Win32 EXE",
});
/** A pending task asks for each name. */
const wanted = (...hashes: string[]) => createJob(t.db, { hashes }, { cache: { ttlHours: 24, sources: [] }, lookupMaxAttempts: 5 });
const leaseOf = async (hash: string) => (await t.sql<{ holder: string }[]>`select holder from lookup_leases where hash = ${hash}`)[0]?.holder ?? null;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const requests = async (budget: string) => (await t.sql<{ n: number }[]>`select count(*)::int as n from vt_requests where budget = ${budget}`)[0].n;

describe("a lookup's look and claim", () => {
  it("answers from the cache by any of the file's names, taking no lease and no request", async () => {
    const file = fileOf(md5("cached"));
    await saveReport(t.db, file, { data: {} }, "simulator");
    await wanted(file.sha1);
    const trip = await lookAndClaim(deps("b-cache"), { hash: file.sha1, holder: "p/1" });
    expect(trip).toEqual({ look: { kind: "report", report: file, source: "simulator" }, slot: null });
    expect(await leaseOf(file.sha1)).toBeNull();
    expect(await requests("b-cache")).toBe(0);
  });

  it("answers a recent not found, and leaves a name nobody waits for alone", async () => {
    await recordNotFound(t.db, md5("unknown"), "simulator");
    await wanted(md5("unknown"));
    expect(await lookAndClaim(deps("b-nf"), { hash: md5("unknown"), holder: "p/2" })).toEqual({ look: { kind: "not_found" }, slot: null });
    expect(await lookAndClaim(deps("b-nf"), { hash: md5("nobody"), holder: "p/3" })).toEqual({ look: { kind: "unwanted" }, slot: null });
    expect(await leaseOf(md5("unknown"))).toBeNull();
    expect(await leaseOf(md5("nobody"))).toBeNull();
    expect(await requests("b-nf")).toBe(0);
  });

  it("takes the lease and a free request; another lookup of the name then waits for the lease", async () => {
    const hash = md5("fresh");
    await wanted(hash);
    expect(await lookAndClaim(deps("b-free"), { hash, holder: "p/4" })).toEqual({ look: { kind: "leased" }, slot: true });
    expect(await leaseOf(hash)).toBe("p/4");
    expect(await requests("b-free")).toBe(1);
    const other = await lookAndClaim(deps("b-free"), { hash, holder: "q/5" });
    expect(other.look.kind).toBe("lease_held");
    if (other.look.kind !== "lease_held") return;
    expect(Math.abs(other.look.expiresAt.getTime() - (Date.now() + 60_000))).toBeLessThan(5_000);
    expect(other.slot).toBeNull();
    expect(await requests("b-free")).toBe(1);
  });

  it("claims no request for a name nobody wants, even with a stale lease of its own on it", async () => {
    const hash = md5("stale-own");
    await t.sql`insert into lookup_leases (hash, holder, expires_at) values (${hash}, 'p/9', now() + interval '1 minute')`;
    expect(await lookAndClaim(deps("b-stale"), { hash, holder: "p/9" })).toEqual({ look: { kind: "unwanted" }, slot: null });
    expect(await requests("b-stale")).toBe(0);
  });

  it("takes the lease but no request when the window is full: the slow claim decides when to come back", async () => {
    const tight = { ...roomy, perMinute: 1 };
    await wanted(md5("w1"), md5("w2"));
    expect((await lookAndClaim(deps("b-full", tight), { hash: md5("w1"), holder: "p/6" })).slot).toBe(true);
    expect(await lookAndClaim(deps("b-full", tight), { hash: md5("w2"), holder: "p/7" })).toEqual({ look: { kind: "leased" }, slot: false });
    expect(await leaseOf(md5("w2"))).toBe("p/7");
    expect(await requests("b-full")).toBe(1);
  });

  it("claims nothing when the answer arrives after its look, before its claim", async () => {
    const file = fileOf(md5("late"));
    await wanted(file.md5);
    // Another claim holds the budget's lock while the lease's previous holder stores the answer and commits: our
    // statement took the lease in a snapshot without the answer, and waits for the lock before claiming.
    let storedAt = 0;
    const other = t.sql.begin(async (sql) => {
      await sql`select pg_advisory_xact_lock(hashtext('hashscan:vt-budget:' || 'b-late'))`;
      await sleep(300);
      await saveReport(t.db, file, { data: {} }, "simulator");
      storedAt = Date.now();
    });
    await sleep(100);
    expect(await lookAndClaim(deps("b-late"), { hash: file.md5, holder: "p/8" })).toEqual({ look: { kind: "leased" }, slot: null });
    await other;
    expect(storedAt).toBeGreaterThan(0);
    expect(await leaseOf(file.md5)).toBe("p/8");
    expect(await requests("b-late")).toBe(0);
  });

  it("claims nothing when the name's last task is cancelled after its look, before its claim", async () => {
    const hash = md5("late-cancelled");
    await wanted(hash);
    const other = t.sql.begin(async (sql) => {
      await sql`select pg_advisory_xact_lock(hashtext('hashscan:vt-budget:' || 'b-late2'))`;
      await sleep(300);
      await sql`update tasks set status = 'cancelled' where hash = ${hash}`;
    });
    await sleep(100);
    expect(await lookAndClaim(deps("b-late2"), { hash, holder: "p/10" })).toEqual({ look: { kind: "leased" }, slot: null });
    await other;
    expect(await requests("b-late2")).toBe(0);
  });

  it("ends a lookup whose last task is cancelled while its claim waits for the lock, asking VirusTotal nothing", async () => {
    const hash = md5("cancelled-in-lock");
    await wanted(hash);
    // Fetched as graphile-worker fetches it.
    const [row] = await t.sql<{ id: string }[]>`
      update graphile_worker._private_jobs set locked_by = 'pool-c', locked_at = now(), attempts = attempts + 1
      where key = ${`lookup:${hash}`} returning id::text`;
    const asked: string[] = [];
    const task = createLookupTask({
      ...deps("b-cancelled"), source: "simulator", quotaRetrySeconds: 60, maxAttempts: 5,
      vt: { getFile: async (name: string) => { asked.push(name); throw new Error("VirusTotal was asked"); } } as unknown as LookupDeps["vt"],
      gate: createBudgetGate({ db: t.db, budget: "b-cancelled" }),
      declaredDead: () => { throw new Error("declared dead"); },
    });
    const other = t.sql.begin(async (sql) => {
      await sql`select pg_advisory_xact_lock(hashtext('hashscan:vt-budget:' || 'b-cancelled'))`;
      await sleep(300);
      await sql`update tasks set status = 'cancelled' where hash = ${hash}`;
    });
    await sleep(100);
    const helpers = { job: { id: row.id, locked_by: "pool-c", attempts: 1 }, logger: { error() {} } } as unknown as JobHelpers;
    await task({ hash }, helpers);
    await other;
    expect(asked).toEqual([]);
    expect(await requests("b-cancelled")).toBe(0);
    expect(await t.sql`select id from graphile_worker._private_jobs where key = ${`lookup:${hash}`}`).toEqual([]);
    expect(await leaseOf(hash)).toBeNull();
  });

  it("leaves no lock behind: the next claim on the budget goes through", async () => {
    await wanted(md5("c1"), md5("c2"));
    expect((await lookAndClaim(deps("b-commit"), { hash: md5("c1"), holder: "p/11" })).slot).toBe(true);
    const [{ locks }] = await t.sql<{ locks: number }[]>`
      select count(*)::int as locks from pg_locks
      where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())`;
    expect(locks).toBe(0);
    expect((await lookAndClaim(deps("b-commit"), { hash: md5("c2"), holder: "p/12" })).slot).toBe(true);
    expect(await requests("b-commit")).toBe(2);
  });
});
