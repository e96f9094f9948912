// Per-name leases: while one lookup is asking VirusTotal for a name, no other lookup asks for the same name.
import { eq, sql } from "drizzle-orm";
import { driverOf, type Executor, type SqlExecutor } from "../client";
import { lookupLeases } from "../schema";
import { toPgArray } from "./pg-array";

export type Lease = { taken: true } | { taken: false; expiresAt: Date };

/**
 * Takes (or renews) the lease on `hash` unless a live one is held by someone else; an expired lease is taken
 * over. When refused, says when the other holder's lease runs out.
 */
export async function takeLease(db: Executor, hash: string, holder: string, ttlSeconds: number): Promise<Lease> {
  const rows = await db.execute(sql`
    insert into lookup_leases (hash, holder, expires_at)
    values (${hash}, ${holder}, now() + make_interval(secs => ${ttlSeconds}))
    on conflict (hash) do update set holder = excluded.holder, expires_at = excluded.expires_at
      where lookup_leases.expires_at < now() or lookup_leases.holder = excluded.holder
    returning hash`);
  if (rows.length === 1) return { taken: true };
  const [other] = await db.select({ expiresAt: lookupLeases.expiresAt }).from(lookupLeases).where(eq(lookupLeases.hash, hash));
  // Gone between the two statements: its holder just finished, so the answer is probably in the cache now.
  return { taken: false, expiresAt: other?.expiresAt ?? new Date() };
}

/** Gives up the lease, if `holder` still holds it (drizzle/0011_settle_function.sql: a lookup's settle does too). */
export async function releaseLease(db: SqlExecutor, hash: string, holder: string) {
  await driverOf(db)`select hashscan_release_lease(${hash}::text, ${holder}::text)`.execute();
}

/** Leases are held as "<pool id>/<job id>": a pool found dead gives all of its up at once. Returns their names. */
export async function releaseLeasesOfPools(db: Executor, poolIds: readonly string[]): Promise<string[]> {
  const rows = await db.execute<{ hash: string }>(sql`
    delete from lookup_leases where split_part(holder, '/', 1) = any(${toPgArray(poolIds)}::text[])
    returning hash`);
  return rows.map((row) => row.hash);
}
