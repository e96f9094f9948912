// Heartbeats: a pool reaps others only once it has been heard itself for the whole stale time (a pool just started,
// or just reconnected after an outage, cannot tell a silent pool from one cut off like itself), and a pool that
// finds its own row gone was declared dead.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHeartbeat } from "../../worker/heartbeat";
import { waitFor } from "./helpers/stack";
import { createTestDatabase, type TestDatabase } from "./helpers/test-database";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase("heartbeat");
});
afterAll(async () => t?.drop());

const settings = { heartbeatSeconds: 0.2, staleSeconds: 1 };

describe("a pool's heartbeat", () => {
  it("reaps a silent pool only after being heard itself for the stale time, and notices being declared dead", async () => {
    await t.sql`
      insert into worker_pools (id, hostname, pid, concurrency, last_beat_at) values ('silent', 'h', 1, 1, now() - interval '1 hour')`;
    let dead = 0;
    const started = Date.now();
    const heartbeat = startHeartbeat(t.db, { id: "me", concurrency: 1 }, settings, () => dead++);
    try {
      await waitFor("our pool's first beat", async () => (await t.sql`select id from worker_pools where id = 'me'`).length === 1);
      // Within its first second the new pool has not been heard long enough to judge anyone.
      if (Date.now() - started < 900) expect((await t.sql`select id from worker_pools where id = 'silent'`).length).toBe(1);
      await waitFor("the silent pool to be forgotten", async () => (await t.sql`select id from worker_pools where id = 'silent'`).length === 0, 10_000);
      expect(Date.now() - started).toBeGreaterThanOrEqual(settings.staleSeconds * 1000);
      expect(dead).toBe(0);

      // Another process found us silent and forgot us: our next beat finds no row.
      await t.sql`delete from worker_pools where id = 'me'`;
      await waitFor("the pool to notice", async () => dead > 0, 5_000);
    } finally {
      await heartbeat.stop();
    }
  });
});
