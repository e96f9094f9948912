// A database that takes connections and never answers (a hung server, a black-holed network): /api/health says
// 503 within its few seconds instead of hanging as long as the driver would.
import net from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { GET as HEALTH } from "../../app/api/health/route";

let silent: net.Server;
const sockets = new Set<net.Socket>();
beforeAll(async () => {
  silent = net.createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  process.env.DATABASE_URL = `postgres://postgres@127.0.0.1:${(silent.address() as net.AddressInfo).port}/silent`;
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => silent.close(resolve));
});

it("answers 503 when the database does not answer, without waiting for the driver's own timeout", async () => {
  const started = Date.now();
  const health = await HEALTH();
  expect(health.status).toBe(503);
  expect(await health.json()).toEqual({ error: { code: "unavailable", message: "The database did not answer within 3 s." } });
  // postgres.js would wait 30 s to connect; a busy machine may add a little to the 3 s.
  expect(Date.now() - started).toBeLessThan(20_000);
});
