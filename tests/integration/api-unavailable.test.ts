// With the database down, the API says so with 503 `unavailable`, not a stack trace.
import net from "node:net";
import { beforeAll, expect, it } from "vitest";
import { POST } from "../../app/api/jobs/route";
import { GET } from "../../app/api/jobs/[id]/route";
import { GET as HEALTH } from "../../app/api/health/route";

beforeAll(async () => {
  // A port nothing listens on: take a free one and close it again.
  const port = await new Promise<number>((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
  process.env.DATABASE_URL = `postgres://postgres@127.0.0.1:${port}/nowhere`;
});

it("answers 503 unavailable for writes and reads", async () => {
  const created = await POST(
    new Request("http://x/api/jobs", { method: "POST", body: "0496f4962d3dce3caa849f605749f7f2", headers: { "content-type": "text/plain" } }),
  );
  expect(created.status).toBe(503);
  expect(await created.json()).toEqual({
    error: { code: "unavailable", message: "The database is unavailable; try again shortly." },
  });
  const id = "AAAAAAAAAAAAAAAAAAAAAA";
  const read = await GET(new Request(`http://x/api/jobs/${id}`), { params: Promise.resolve({ id }) });
  expect(read.status).toBe(503);
});

it("answers /api/health with 503 unavailable", async () => {
  const health = await HEALTH();
  expect(health.status).toBe(503);
  expect((await health.json()).error.code).toBe("unavailable");
});
