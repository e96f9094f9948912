// Per-name leases: while one lookup is asking VirusTotal for a name, no other lookup asks for the same name.
import { and, eq, sql } from "drizzle-orm";
import type { Executor } from "../client";
import { lookupLeases } from "../schema";

/** Takes the lease on `hash` unless a live one is held by someone else; an expired lease is taken over. */
export async function takeLease(db: Executor, hash: string, holder: string, ttlSeconds: number): Promise<boolean> {
  const rows = await db.execute(sql`
    insert into lookup_leases (hash, holder, expires_at)
    values (${hash}, ${holder}, now() + make_interval(secs => ${ttlSeconds}))
    on conflict (hash) do update set holder = excluded.holder, expires_at = excluded.expires_at
      where lookup_leases.expires_at < now() or lookup_leases.holder = excluded.holder
    returning hash`);
  return rows.length === 1;
}

export async function releaseLease(db: Executor, hash: string, holder: string) {
  await db.delete(lookupLeases).where(and(eq(lookupLeases.hash, hash), eq(lookupLeases.holder, holder)));
}

/** Leases are held as "<pool id>/<job id>": a pool found dead gives all of its up at once. */
export async function releaseLeasesOfPools(db: Executor, poolIds: readonly string[]) {
  await db.execute(sql`delete from lookup_leases where split_part(holder, '/', 1) = any(${`{${poolIds.join(",")}}`}::text[])`);
}
