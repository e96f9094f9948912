// An upload cut off mid-body (the client went away, a proxy gave up) leaves nothing behind: POST /api/jobs answers a
// clear 400 and writes no job, no task and no queue row, whatever kind of body was being read. Over real HTTP, against
// a real web process, tests/e2e/cut-uploads.spec.ts cuts the socket itself.
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST } from "../../app/api/jobs/route";
import { createTestDatabase, type TestDatabase } from "./helpers/test-database";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase("cut_uploads");
  process.env.DATABASE_URL = t.url; // read once, by the route's shared pool
});
afterAll(async () => t?.drop());

const BASE = "http://hashscan.test";
/** 20,000 distinct MD5-shaped lines (640 KB): whole hashes, so that any prefix of them would make a job if taken. */
const hashes = Array.from({ length: 20_000 }, (_, i) => i.toString(16).padStart(32, "0"));
const list = hashes.map((hash) => `${hash}\n`).join("");
const encode = (text: string) => new TextEncoder().encode(text);

/** What Node's HTTP server makes a request body fail with when the client's socket closes before its end. */
const clientGone = () => Object.assign(new Error("aborted"), { code: "ECONNRESET" });

/**
 * A request body that delivers `sent` in 64 KB chunks, a read at a time, then fails (or, with `end`, just ends) where
 * a cut connection would.
 */
function cutBody(sent: Uint8Array, how: "fails" | "ends" = "fails"): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at < sent.byteLength) {
        controller.enqueue(sent.slice(at, at + 64 * 1024));
        at += 64 * 1024;
      } else if (how === "ends") controller.close();
      else controller.error(clientGone());
    },
  });
}

function post(body: ReadableStream<Uint8Array> | Uint8Array, headers: Record<string, string>) {
  return POST(new Request(`${BASE}/api/jobs`, { method: "POST", body, headers, duplex: "half" } as RequestInit));
}

async function rowCounts() {
  const [counts] = await t.sql<{ jobs: number; tasks: number; queued: number }[]>`
    select (select count(*)::int from jobs) as jobs,
           (select count(*)::int from tasks) as tasks,
           (select count(*)::int from graphile_worker._private_jobs) as queued`;
  return counts;
}

const CUT_OFF = { error: { code: "invalid_parameter", message: expect.stringMatching(/cut off before its end/) } };

describe("a body cut off partway", () => {
  it("text/plain, with a Content-Length longer than what came and without one (chunked): 400, nothing written", async () => {
    const sent = encode(list.slice(0, list.length / 2));
    for (const length of [String(encode(list).byteLength), null]) {
      const response = await post(cutBody(sent), { "content-type": "text/plain", ...(length ? { "content-length": length } : {}) });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual(CUT_OFF);
    }
    expect(await rowCounts()).toEqual({ jobs: 0, tasks: 0, queued: 0 });
  });

  it("multipart/form-data, cut in the middle of the file: 400, nothing written", async () => {
    const form = new FormData();
    form.append("name", "cut mid-file");
    form.append("file", new Blob([list], { type: "text/plain" }), "hashes.txt");
    const request = new Request(`${BASE}/api/jobs`, { method: "POST", body: form });
    const whole = new Uint8Array(await request.arrayBuffer());
    const contentType = request.headers.get("content-type")!;
    // Half the body: well past the name and the file's part headers, well before the file's end.
    const response = await post(cutBody(whole.slice(0, whole.byteLength / 2)), {
      "content-type": contentType,
      "content-length": String(whole.byteLength),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual(CUT_OFF);
    expect(await rowCounts()).toEqual({ jobs: 0, tasks: 0, queued: 0 });
  });

  it("application/json, cut in the middle of the array: 400, nothing written", async () => {
    const whole = encode(JSON.stringify({ hashes, name: "cut mid-array" }));
    const response = await post(cutBody(whole.slice(0, whole.byteLength / 2)), { "content-type": "application/json" });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual(CUT_OFF);
    expect(await rowCounts()).toEqual({ jobs: 0, tasks: 0, queued: 0 });
  });

  it("a body that ends cleanly short of its Content-Length is taken as cut off too, not as a shorter list", async () => {
    const sent = encode(list.slice(0, list.length / 2));
    const response = await post(cutBody(sent, "ends"), { "content-type": "text/plain", "content-length": String(encode(list).byteLength) });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual(CUT_OFF);
    expect(await rowCounts()).toEqual({ jobs: 0, tasks: 0, queued: 0 });
  });

  it("a gzip body cut partway: 400, nothing written", async () => {
    const compressed = new Uint8Array(gzipSync(list));
    const response = await post(cutBody(compressed.slice(0, compressed.byteLength / 2)), { "content-type": "text/plain", "content-encoding": "gzip" });
    expect(response.status).toBe(400);
    expect((await response.json()).error.code).toBe("invalid_parameter");
    expect(await rowCounts()).toEqual({ jobs: 0, tasks: 0, queued: 0 });
  });

  it("the same list sent whole is a job (what the cuts above would have written)", async () => {
    const whole = encode(list);
    const response = await post(cutBody(whole, "ends"), { "content-type": "text/plain", "content-length": String(whole.byteLength) });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ accepted: hashes.length });
    expect(await rowCounts()).toEqual({ jobs: 1, tasks: hashes.length, queued: hashes.length });
  });
});
