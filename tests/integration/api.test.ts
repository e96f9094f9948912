// The JSON API contract, through the real route handlers and a real database.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST } from "../../app/api/jobs/route";
import { GET } from "../../app/api/jobs/[id]/route";
import { GET as EXPORT } from "../../app/api/jobs/[id]/export/route";
import { failTasks } from "../../lib/db/queries/tasks";
import { POST as CANCEL } from "../../app/api/jobs/[id]/cancel/route";
import { POST as RETRY } from "../../app/api/jobs/[id]/retry/route";
import { MAX_UPLOAD_BYTES } from "../../lib/jobs/upload-limits";
import { createTestDatabase, type TestDatabase } from "./helpers/test-database";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase("api");
  process.env.DATABASE_URL = t.url; // read once, by the routes' shared pool
});
afterAll(async () => t?.drop());

const BASE = "http://hashscan.test";
const md5 = "0496f4962d3dce3caa849f605749f7f2";
const sha1 = "15e43dbe5259192a9d6b89d1c1e3e99ac9e86880";

const post = (body: BodyInit, contentType: string | null, query = "") =>
  POST(
    new Request(`${BASE}/api/jobs${query}`, {
      method: "POST",
      body,
      headers: contentType ? { "content-type": contentType } : {},
    }),
  );
const get = (id: string, query = "") =>
  GET(new Request(`${BASE}/api/jobs/${id}${query}`), { params: Promise.resolve({ id }) });

async function errorOf(response: Response) {
  return { status: response.status, body: await response.json() };
}

describe("POST /api/jobs", () => {
  it("takes JSON, and answers 201 with the job's absolute URLs and what was accepted", async () => {
    const response = await post(JSON.stringify({ hashes: [md5, `${sha1} ${md5}`, "nope"], name: "json" }), "application/json");
    expect(response.status).toBe(201);
    const body = await response.json();
    expect(body).toEqual({
      id: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      url: `${BASE}/jobs/${body.id}`,
      statusUrl: `${BASE}/api/jobs/${body.id}`,
      accepted: 2,
      duplicates: 1,
      invalid: [{ line: 3, value: "nope", reason: "no MD5, SHA-1 or SHA-256 found" }],
      invalidCount: 1,
      manageToken: expect.stringMatching(/^[\w-]{43}$/),
    });
    expect(response.headers.get("location")).toBe(body.url);
  });

  it("takes text/plain and what curl --data-binary sends, with ?name=", async () => {
    for (const type of ["text/plain; charset=utf-8", "application/x-www-form-urlencoded"]) {
      const response = await post(`# iocs\r\n${md5};evil\r\n`, type, "?name=from%20curl");
      expect(response.status).toBe(201);
      const body = await response.json();
      expect(body).toMatchObject({ accepted: 1, duplicates: 0, invalidCount: 0 });
      const job = await (await get(body.id)).json();
      expect(job.name).toBe("from curl");
    }
  });

  it("takes a multipart upload with a file and a name", async () => {
    const form = new FormData();
    form.append("file", new Blob([`${md5}\n${sha1}\n`], { type: "text/plain" }), "iocs.txt");
    form.append("name", "multipart");
    const response = await POST(new Request(`${BASE}/api/jobs`, { method: "POST", body: form }));
    expect(response.status).toBe(201);
    const body = await response.json();
    expect(body.accepted).toBe(2);
    expect((await (await get(body.id)).json()).name).toBe("multipart");
  });

  it("answers every mistake with a stable error code", async () => {
    expect(await errorOf(await post("{not json", "application/json"))).toEqual({
      status: 400,
      body: { error: { code: "invalid_json", message: "The body is not valid JSON." } },
    });
    const wrongShape = await errorOf(await post(JSON.stringify({ hashes: "abc" }), "application/json"));
    expect(wrongShape).toMatchObject({ status: 400, body: { error: { code: "invalid_parameter" } } });
    const longName = await errorOf(await post(JSON.stringify({ hashes: [md5], name: "x".repeat(201) }), "application/json"));
    expect(longName).toMatchObject({ status: 400, body: { error: { code: "invalid_parameter" } } });
    const noHashes = await errorOf(await post("hello\nworld", "text/plain"));
    expect(noHashes).toMatchObject({ status: 400, body: { error: { code: "no_valid_hashes" } } });
    const noFile = new FormData();
    noFile.append("name", "x");
    const missingFile = await errorOf(await POST(new Request(`${BASE}/api/jobs`, { method: "POST", body: noFile })));
    expect(missingFile).toMatchObject({ status: 400, body: { error: { code: "invalid_parameter" } } });
    const xml = await errorOf(await post("<hashes/>", "application/xml"));
    expect(xml).toMatchObject({ status: 415, body: { error: { code: "unsupported_media_type" } } });
  });

  it("refuses a body over the upload limit, declared or streamed, and stores nothing", async () => {
    const [before] = await t.sql`select count(*)::int as n from jobs`;
    const big = `${md5}\n`.repeat(Math.ceil((MAX_UPLOAD_BYTES + 1) / 33));
    expect(await errorOf(await post(big, "text/plain"))).toMatchObject({
      status: 413,
      body: { error: { code: "payload_too_large", message: "The upload is larger than 70 MB." } },
    });
    const chunk = new TextEncoder().encode(`${md5}\n`.repeat(30_000));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > MAX_UPLOAD_BYTES) return controller.close();
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const streamed = await POST(
      new Request(`${BASE}/api/jobs`, { method: "POST", body: stream, headers: { "content-type": "text/plain" }, duplex: "half" } as RequestInit),
    );
    expect(streamed.status).toBe(413);
    const [after] = await t.sql`select count(*)::int as n from jobs`;
    expect(after.n).toBe(before.n);
  });
});

describe("GET /api/jobs/{id}", () => {
  it("reports status, counts and results in input order, paginated by an opaque cursor", async () => {
    const hashes = Array.from({ length: 5 }, (_, i) => String(i).repeat(32));
    const created = await (await post(JSON.stringify({ hashes }), "application/json")).json();

    const first = await get(created.id, "?limit=2");
    expect(first.status).toBe(200);
    const page1 = await first.json();
    expect(page1).toMatchObject({
      id: created.id,
      name: null,
      status: "queued",
      source: "simulator",
      counts: { total: 5, pending: 5, completed: 0, notFound: 0, failed: 0 },
      duplicates: 0,
      invalidCount: 0,
      pause: null,
    });
    expect(page1.createdAt).toMatch(/Z$/);
    expect(page1.results).toEqual([
      {
        position: 0, hash: hashes[0], hashType: "md5", status: "pending", sha256: null, md5: hashes[0], sha1: null,
        fortinet: null, fortinetCategory: null, detected: null, engines: null, scanDate: null, meaningfulName: null,
        fileType: null, error: null, retryAt: null,
      },
      expect.objectContaining({ hash: hashes[1] }),
    ]);
    const page2 = await (await get(created.id, `?limit=2&cursor=${page1.nextCursor}`)).json();
    const page3 = await (await get(created.id, `?limit=2&cursor=${page2.nextCursor}`)).json();
    expect([...page1.results, ...page2.results, ...page3.results].map((r: { hash: string }) => r.hash)).toEqual(hashes);
    expect(page3.nextCursor).toBeNull();
  });

  it("rejects a bad limit or cursor, and answers 404 for an unknown job", async () => {
    const created = await (await post(md5, "text/plain")).json();
    for (const query of [
      "?limit=0", "?limit=1001", "?limit=abc", "?cursor=garbage", "?status=done", "?sort=name", "?order=up",
      "?minDetected=-1", "?hash=xyz", "?fortinet=yes", "?since=garbage", `?cursor=${"a".repeat(300)}`,
    ]) {
      expect(await errorOf(await get(created.id, query))).toMatchObject({ status: 400, body: { error: { code: "invalid_parameter" } } });
    }
    for (const id of ["\u0000", "a%00b", "x".repeat(5000), "AAAAAAAAAAAAAAAAAAAAA\ud800"]) {
      expect(await errorOf(await get(id))).toMatchObject({ status: 404, body: { error: { code: "not_found" } } });
    }
    expect(await errorOf(await get("AAAAAAAAAAAAAAAAAAAAAA"))).toMatchObject({
      status: 404,
      body: { error: { code: "not_found" } },
    });
  });

  it("answers 404 for an unknown job whatever its change cursor, as before the reads were pipelined", async () => {
    // A well-formed cursor from past the horizon: on a job that exists, a 400; on none, there is no job to speak of.
    const since = Buffer.from("c999999999999").toString("base64url");
    expect(await errorOf(await get("AAAAAAAAAAAAAAAAAAAAAA", `?since=${since}`))).toMatchObject({ status: 404, body: { error: { code: "not_found" } } });
    const created = await (await post(md5, "text/plain")).json();
    expect(await errorOf(await get(created.id, `?since=${since}`))).toMatchObject({ status: 400, body: { error: { code: "invalid_parameter" } } });
  });

  it("answers a read whose pipelined queries fail with one error, no unhandled rejection, and a pool still in use", async () => {
    const created = await (await post(md5, "text/plain")).json();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    // The counts' table gone for a moment: one query of the batch fails, those sent beside it meet an aborted transaction.
    await t.sql`alter table job_count_deltas rename to job_count_deltas_away`;
    try {
      for (let i = 0; i < 5; i++) {
        expect((await get(created.id, "?limit=5")).status).toBe(500);
        const revalidated = await GET(new Request(`${BASE}/api/jobs/${created.id}`, { headers: { "if-none-match": 'W/"x"' } }), { params: Promise.resolve({ id: created.id }) });
        expect(revalidated.status).toBe(500);
      }
    } finally {
      await t.sql`alter table job_count_deltas_away rename to job_count_deltas`;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    process.off("unhandledRejection", onUnhandled);
    expect(unhandled).toEqual([]);
    expect((await get(created.id)).status).toBe(200);
  });
});

describe("revalidation and export", () => {
  const getWith = (id: string, headers: Record<string, string>, query = "") =>
    GET(new Request(`${BASE}/api/jobs/${id}${query}`, { headers }), { params: Promise.resolve({ id }) });
  const exportOf = (id: string, query = "") =>
    EXPORT(new Request(`${BASE}/api/jobs/${id}/export${query}`), { params: Promise.resolve({ id }) });

  it("answers 304 to If-None-Match while the job has not changed, and 200 with a new ETag once it has", async () => {
    const hashes = ["a".repeat(32), "b".repeat(32)];
    const created = await (await post(JSON.stringify({ hashes }), "application/json")).json();
    const first = await get(created.id);
    const etag = first.headers.get("etag")!;
    expect(etag).toMatch(/^W\/"/);
    expect(first.headers.get("cache-control")).toBe("private, no-cache");

    const again = await getWith(created.id, { "if-none-match": etag });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    expect((await getWith(created.id, { "if-none-match": `W/"other", ${etag}` })).status).toBe(304);

    await failTasks(t.db, hashes[0], "test");
    const changed = await getWith(created.id, { "if-none-match": etag });
    expect(changed.status).toBe(200);
    expect(changed.headers.get("etag")).not.toBe(etag);
    expect((await changed.json()).counts.failed).toBe(1);
  });

  it("never revalidates a change feed response: it owes rows no ETag can tell of", async () => {
    const created = await (await post(JSON.stringify({ hashes: ["d".repeat(32)] }), "application/json")).json();
    const first = await (await get(created.id)).json();
    const feed = await getWith(created.id, { "if-none-match": "*" }, `?since=${first.changeCursor}`);
    expect(feed.status).toBe(200);
    expect(feed.headers.get("etag")).toBeNull();
    expect(feed.headers.get("cache-control")).toBe("private, no-store");
    expect((await feed.json()).results).toEqual(expect.any(Array));
  });

  it("exports as a named attachment, and refuses a bad format or an unknown job", async () => {
    const created = await (await post(JSON.stringify({ hashes: ["c".repeat(32)], name: "Ops" }), "application/json")).json();
    const csv = await exportOf(created.id, "?format=csv");
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-disposition")).toBe(`attachment; filename="hashscan-ops-${created.id}.csv"`);
    expect((await csv.text()).split("\r\n")[1]).toBe(`${"c".repeat(32)},md5,pending,${"c".repeat(32)},,,,,,,,,,`);
    const ndjson = await exportOf(created.id, "?format=ndjson&status=pending");
    expect(ndjson.headers.get("content-type")).toBe("application/x-ndjson");
    expect(JSON.parse(await ndjson.text())).toMatchObject({ hash: "c".repeat(32), status: "pending" });
    expect(await errorOf(await exportOf(created.id, "?format=xlsx"))).toMatchObject({ status: 400, body: { error: { code: "invalid_parameter" } } });
    expect(await errorOf(await exportOf("AAAAAAAAAAAAAAAAAAAAAA"))).toMatchObject({ status: 404, body: { error: { code: "not_found" } } });
  });
});

describe("share links read; managing needs the manage token", () => {
  const manage = (route: typeof CANCEL, id: string, headers: Record<string, string>) =>
    route(new Request(`${BASE}/api/jobs/${id}/x`, { method: "POST", headers }), { params: Promise.resolve({ id }) });

  it("gives the creator a manage token, and cancel and retry answer 403 forbidden without it", async () => {
    const created = await (await post(JSON.stringify({ hashes: ["e".repeat(32)] }), "application/json")).json();
    expect(created.manageToken).toMatch(/^[\w-]{43}$/);
    for (const route of [CANCEL, RETRY]) {
      for (const headers of [{} as Record<string, string>, { "x-manage-token": "" }, { "x-manage-token": created.manageToken.slice(1) }, { "x-manage-token": `${created.manageToken.slice(0, -1)}${created.manageToken.endsWith("A") ? "B" : "A"}` }]) {
        expect(await errorOf(await manage(route, created.id, headers))).toMatchObject({ status: 403, body: { error: { code: "forbidden" } } });
      }
    }
    // Another job's token does not manage this one; an unknown job is forbidden too (its existence is not told).
    const other = await (await post(JSON.stringify({ hashes: ["f".repeat(32)] }), "application/json")).json();
    expect((await manage(CANCEL, created.id, { "x-manage-token": other.manageToken })).status).toBe(403);
    expect((await manage(CANCEL, "AAAAAAAAAAAAAAAAAAAAAA", { "x-manage-token": created.manageToken })).status).toBe(403);

    const retried = await manage(RETRY, created.id, { "x-manage-token": created.manageToken });
    expect(await retried.json()).toEqual({ retried: 0 });
    const cancelled = await manage(CANCEL, created.id, { "x-manage-token": created.manageToken });
    expect(await cancelled.json()).toEqual({ cancelled: 1 });
  });

  it("refuses cross-site browser requests to create or manage, and lets scripts and the app's own pages through", async () => {
    const body = JSON.stringify({ hashes: ["1".repeat(32)] });
    const create = (headers: Record<string, string>) =>
      POST(new Request(`${BASE}/api/jobs`, { method: "POST", body, headers: { "content-type": "application/json", ...headers } }));
    const before = await t.sql`select count(*)::int as n from jobs`;
    for (const headers of [
      { "sec-fetch-site": "cross-site" } as Record<string, string>,
      { "sec-fetch-site": "same-site", origin: "https://evil.example" },
      { origin: "https://evil.example" },
      { origin: "null" },
    ]) {
      expect(await errorOf(await create(headers))).toMatchObject({ status: 403, body: { error: { code: "forbidden" } } });
    }
    // text/plain is what a cross-site form can send without a preflight: refused the same way.
    const form = await POST(
      new Request(`${BASE}/api/jobs`, { method: "POST", body: "1".repeat(32), headers: { "content-type": "text/plain", origin: "https://evil.example" } }),
    );
    expect(form.status).toBe(403);
    expect((await t.sql`select count(*)::int as n from jobs`)[0].n).toBe(before[0].n);

    expect((await create({})).status).toBe(201);
    expect((await create({ "sec-fetch-site": "same-origin", origin: BASE })).status).toBe(201);
    expect((await create({ origin: new URL(BASE).origin })).status).toBe(201);
    const created = await (await create({})).json();
    const crossCancel = await manage(CANCEL, created.id, { "x-manage-token": created.manageToken, "sec-fetch-site": "cross-site" });
    expect(crossCancel.status).toBe(403);
  });
});
