// GET /api/health and the bounds every connection is opened with.
import { afterAll, beforeAll, expect, it } from "vitest";
import postgres from "postgres";
import { GET as HEALTH } from "../../app/api/health/route";
import { createDb, getDb, withSessionSettings } from "../../lib/db/client";
import { beat, registerPool, removePool } from "../../lib/db/queries/worker-pools";
import { createTestDatabase, type TestDatabase } from "./helpers/test-database";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase("health");
  process.env.DATABASE_URL = t.url; // read once, by the routes' shared pool
});
afterAll(async () => t?.drop());

it("answers 200 while the database answers, with the newest worker heartbeat's age (none yet: null)", async () => {
  const before = await HEALTH();
  expect(before.status).toBe(200);
  expect(before.headers.get("cache-control")).toBe("no-store");
  expect(await before.json()).toEqual({ status: "ok", database: "ok", worker: { newestHeartbeatAgeSeconds: null, staleAfterSeconds: 60 } });

  await registerPool(t.db, { id: "pool-a", hostname: "h", pid: 1, concurrency: 4 });
  await t.sql`update worker_pools set last_beat_at = now() - interval '500 seconds'`;
  // A silent worker leaves the web app healthy; its age says how silent.
  expect((await (await HEALTH()).json()).worker.newestHeartbeatAgeSeconds).toBe(500);
  await beat(t.db, "pool-a");
  expect((await (await HEALTH()).json()).worker.newestHeartbeatAgeSeconds).toBeLessThanOrEqual(1);
  // A worker that stopped cleanly removed its row: none registered reads as null again.
  await removePool(t.db, "pool-a");
  expect((await (await HEALTH()).json()).worker.newestHeartbeatAgeSeconds).toBeNull();
});

it("opens every connection with a statement timeout and an idle-in-transaction timeout, but the migrations'", async () => {
  const [row] = await getDb().$client<{ statement: string; idle: string }[]>`
    select current_setting('statement_timeout') as statement, current_setting('idle_in_transaction_session_timeout') as idle`;
  expect(row).toEqual({ statement: "5min", idle: "2min" });
  // Migrations run unbounded: an index built on a large table may take longer.
  const unbounded = createDb(t.url, { max: 1, bounded: false });
  try {
    const [free] = await unbounded.$client<{ statement: string }[]>`select current_setting('statement_timeout') as statement`;
    expect(free.statement).toBe("0");
  } finally {
    await unbounded.$client.end();
  }
  // graphile-worker's pool takes a URL: the same bounds travel in it, as libpq's options.
  const viaUrl = postgres(withSessionSettings(t.url), { max: 1 });
  try {
    const [fromUrl] = await viaUrl`select current_setting('statement_timeout') as statement`;
    expect(fromUrl.statement).toBe("5min");
  } finally {
    await viaUrl.end();
  }
});
