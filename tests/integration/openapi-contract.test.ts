// The OpenAPI document against the API it describes: loaded from its real route, checked for structure, and every
// real answer of every route (each success, 304, and every error code the API has) validated against the schema the
// document gives for that operation and status. A fresh database; API_TOKENS and small limits set for the file so
// that 401, 413 and 429 are real answers too.
import { readdirSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GET as HASH } from "../../app/api/hashes/[hash]/route";
import { GET as HEALTH } from "../../app/api/health/route";
import { POST as CANCEL } from "../../app/api/jobs/[id]/cancel/route";
import { GET as EXPORT } from "../../app/api/jobs/[id]/export/route";
import { POST as RETRY } from "../../app/api/jobs/[id]/retry/route";
import { GET as REPORT } from "../../app/api/jobs/[id]/route";
import { POST as CREATE } from "../../app/api/jobs/route";
import { GET as OPENAPI } from "../../app/api/openapi.json/route";
import { GET as STATUS } from "../../app/api/status/route";
import { manageTokenFor } from "../../lib/access/manage-token";
import type { OpenApiDocument } from "../../lib/api/openapi";
import { errorResponse } from "../../lib/api/respond";
import { saveReport } from "../../lib/db/queries/reports";
import { failTasks } from "../../lib/db/queries/tasks";
import { AppError, appErrorCodeSchema, ERROR_CODES } from "../../lib/errors";
import { fileReportSchema, summarizeReport } from "../../lib/virustotal";
import { simulatedReport } from "../../lib/virustotal/simulator/reports";
import { OpenApiContract, refsIn, resolveRef } from "./helpers/openapi-contract";
import { createTestDatabase, type TestDatabase } from "./helpers/test-database";

const BASE = "http://hashscan.test";
const TOKEN = "contract-token-0123456789";
/** A client of its own for the per-client limit, so that the rest of the file never meets it. */
const BUSY_TOKEN = "contract-busy-token-0123456789";
const JOBS_PER_HOUR = 12;
const MAX_HASHES = 50;
const ENV = {
  API_TOKENS: `${TOKEN},${BUSY_TOKEN}`,
  CLIENT_JOBS_PER_HOUR: String(JOBS_PER_HOUR),
  JOB_MAX_HASHES: String(MAX_HASHES),
  APP_SECRET: "contract-secret-0123456789abcdef0123456789",
  PUBLIC_URL: "",
};

let t: TestDatabase;
let contract: OpenApiContract;
const saved = { ...process.env };
beforeAll(async () => {
  t = await createTestDatabase("openapi_contract");
  // Read once, by env() on first use in this file's module graph.
  process.env.DATABASE_URL = t.url;
  Object.assign(process.env, ENV);
  const response = await OPENAPI(new Request(`${BASE}/api/openapi.json`));
  expect(response.status).toBe(200);
  contract = new OpenApiContract((await response.json()) as OpenApiDocument);
});
afterAll(async () => {
  for (const name of Object.keys(ENV)) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
  await t?.drop();
});

let serial = 0;
/** `n` distinct MD5s, different for every call. */
const md5s = (n: number) => Array.from({ length: n }, () => (serial++).toString(16).padStart(32, "d"));
const bearer = (token = TOKEN) => ({ authorization: `Bearer ${token}` });
const params = <T extends Record<string, string>>(value: T) => ({ params: Promise.resolve(value) });

const create = (body: BodyInit, headers: Record<string, string> = {}, query = "") =>
  CREATE(new Request(`${BASE}/api/jobs${query}`, { method: "POST", body, headers: { ...bearer(), ...headers } }));
const report = (id: string, query = "", headers: Record<string, string> = {}) =>
  REPORT(new Request(`${BASE}/api/jobs/${id}${query}`, { headers }), params({ id }));
const exportOf = (id: string, query = "") => EXPORT(new Request(`${BASE}/api/jobs/${id}/export${query}`), params({ id }));
const manage = (route: typeof CANCEL, id: string, headers: Record<string, string>) =>
  route(new Request(`${BASE}/api/jobs/${id}/manage`, { method: "POST", headers }), params({ id }));
const hash = (value: string, headers: Record<string, string> = bearer()) =>
  HASH(new Request(`${BASE}/api/hashes/${value}`, { headers }), params({ hash: value }));

interface Created {
  id: string;
  manageToken: string;
}
async function created(response: Response): Promise<Created> {
  return (await contract.check("createJob", response)) as Created;
}

describe("the document", () => {
  it("is OpenAPI 3.1: its version, unique operationIds, resolving $refs, declared path parameters and security schemes", () => {
    const { document } = contract;
    expect(document.openapi).toMatch(/^3\.1\.\d+$/);
    expect(document.info).toMatchObject({ title: expect.any(String), version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect(document.servers).toEqual([{ url: BASE }]);

    const ids = contract.operations().map(({ operation }) => operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);

    const refs = refsIn(document);
    expect(refs.length).toBeGreaterThan(10);
    for (const { at, ref } of refs) expect(resolveRef(document, ref), `${ref} at ${at}`).toBeDefined();

    const tags = new Set(document.tags.map((tag) => tag.name));
    for (const { path: route, method, operation } of contract.operations()) {
      const where = `${method.toUpperCase()} ${route}`;
      expect(["get", "post"], where).toContain(method);
      expect(route.startsWith("/"), where).toBe(true);
      const inPath = [...route.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();
      const declared = operation.parameters.filter((p) => p.in === "path");
      expect(declared.map((p) => p.name).sort(), where).toEqual(inPath);
      for (const parameter of declared) expect(parameter.required, where).toBe(true);
      for (const tag of operation.tags) expect(tags, where).toContain(tag);
      for (const requirement of operation.security) {
        for (const scheme of Object.keys(requirement)) expect(document.components.securitySchemes, where).toHaveProperty(scheme);
      }
      expect(Object.keys(operation.responses).length, where).toBeGreaterThan(0);
      for (const [status, response] of Object.entries(operation.responses)) {
        expect(status, where).toMatch(/^[1-5]\d\d$/);
        expect(response.description.trim(), `${where} ${status} has no description`).not.toBe("");
      }
      expect(operation["x-codeSamples"].length, `${where} has no curl example`).toBeGreaterThan(0);
    }
  });

  it("holds only schemas a draft 2020-12 validator compiles in strict mode", () => {
    for (const name of Object.keys(contract.document.components.schemas)) {
      const validator = contract.validator(`/components/schemas/${name}`);
      expect(validator(null), name).toBe(false);
    }
  });

  it("has every route under app/api, with the methods its file exports", async () => {
    const apiDir = path.resolve("app/api");
    const routeFiles = (readdirSync(apiDir, { recursive: true }) as string[]).filter((file) => path.basename(file) === "route.ts");
    expect(routeFiles.length).toBeGreaterThanOrEqual(9);
    for (const file of routeFiles) {
      const route = `/api/${path.dirname(file).split(path.sep).join("/")}`.replace(/\[(\w+)\]/g, "{$1}");
      expect(contract.document.paths, `${file} is not in the OpenAPI document`).toHaveProperty([route]);
      const exported = Object.keys(await import(path.join(apiDir, file))).filter((name) => /^[A-Z]+$/.test(name));
      expect(Object.keys(contract.document.paths[route]).map((m) => m.toUpperCase()).sort(), file).toEqual(exported.sort());
    }
  });

  it("lists with each error status the envelope errorResponse writes for each of its codes, and its headers", async () => {
    // `internal` cannot be provoked honestly through a route: respond() turns anything unexpected into it, so its body
    // is checked here, as errorResponse writes it for every code an operation lists.
    for (const { operation } of contract.operations()) {
      for (const [status, documented] of Object.entries(operation.responses)) {
        if (Number(status) < 400) continue;
        const schema = documented.content?.["application/json"]?.schema as { properties: { error: { properties: { code: { enum: string[] } } } } };
        const codes = schema.properties.error.properties.code.enum;
        for (const code of codes) {
          expect(ERROR_CODES[appErrorCodeSchema.parse(code)].status).toBe(Number(status));
          const response = errorResponse(new AppError(appErrorCodeSchema.parse(code), "x", code === "rate_limited" ? 30 : undefined));
          const headersOf = new Set(Object.keys(documented.headers ?? {}).map((h) => h.toLowerCase()));
          for (const header of ["www-authenticate", "retry-after"]) {
            if (response.headers.has(header)) expect(headersOf, `${operation.operationId} ${status}`).toContain(header);
          }
          const body = await contract.check(operation.operationId, response);
          expect(body).toEqual({ error: { code, message: "x" } });
        }
      }
    }
    contract.codesSeen.clear(); // only codes real routes answer count below
  });
});

describe("real answers", () => {
  it("POST /api/jobs: 201 for JSON, text, x-www-form-urlencoded, multipart and gzip bodies, with Location", async () => {
    const json = await create(JSON.stringify({ hashes: [...md5s(2), "nope"], name: "contract" }), { "content-type": "application/json" });
    const location = json.headers.get("location");
    const body = await created(json);
    expect(location).toBe(`${BASE}/jobs/${body.id}`);
    await created(await create(md5s(2).join("\n"), { "content-type": "text/plain" }, "?name=text"));
    await created(await create(md5s(1).join("\n"), { "content-type": "application/x-www-form-urlencoded" }));
    const form = new FormData();
    form.append("file", new Blob([md5s(2).join("\n")], { type: "text/plain" }), "iocs.txt");
    form.append("name", "multipart");
    await created(await create(form));
    await created(await create(gzipSync(md5s(1).join("\n")), { "content-type": "text/plain", "content-encoding": "gzip" }));
  });

  it("POST /api/jobs with an Idempotency-Key: the same 201 again with Idempotent-Replayed, 409 for another request", async () => {
    const list = md5s(2).join("\n");
    const headers = { "content-type": "text/plain", "idempotency-key": "contract-key-1" };
    const first = await created(await create(list, headers));
    const again = await create(list, headers);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await created(again)).toEqual(first);
    const other = await contract.check("createJob", await create(md5s(1).join("\n"), headers));
    expect(other).toMatchObject({ error: { code: "conflict" } });
  });

  it("POST /api/jobs: each refusal", async () => {
    const refusals: [Response, string][] = [
      [await create("{not json", { "content-type": "application/json" }), "invalid_json"],
      [await create(JSON.stringify({ hashes: "abc" }), { "content-type": "application/json" }), "invalid_parameter"],
      [await create(md5s(1).join("\n"), { "content-type": "text/plain", "idempotency-key": "has space" }), "invalid_parameter"],
      [await create("hello\nworld", { "content-type": "text/plain" }), "no_valid_hashes"],
      [await create(md5s(1).join("\n"), { "content-type": "text/plain", authorization: "" }), "unauthorized"],
      [await create(md5s(1).join("\n"), { "content-type": "text/plain", authorization: "Bearer not-a-token-0123456789" }), "unauthorized"],
      [await create(md5s(1).join("\n"), { "content-type": "text/plain", "sec-fetch-site": "cross-site" }), "forbidden"],
      [await create(md5s(MAX_HASHES + 1).join("\n"), { "content-type": "text/plain" }), "payload_too_large"],
      [await create("<hashes/>", { "content-type": "application/xml" }), "unsupported_media_type"],
      [await create(md5s(1).join("\n"), { "content-type": "text/plain", "content-encoding": "br" }), "unsupported_media_type"],
    ];
    for (const [response, code] of refusals) {
      const status = response.status;
      expect(await contract.check("createJob", response), `${status}`).toMatchObject({ error: { code } });
    }
    const unauthorized = await create(md5s(1).join("\n"), { "content-type": "text/plain", authorization: "" });
    expect(unauthorized.headers.get("www-authenticate")).toBe('Bearer realm="hashscan"');
  });

  it("POST /api/jobs: 429 rate_limited with Retry-After once a client is past CLIENT_JOBS_PER_HOUR", async () => {
    const busy = (list: string) => create(list, { ...bearer(BUSY_TOKEN), "content-type": "text/plain" });
    for (let i = 0; i < JOBS_PER_HOUR; i++) expect((await busy(md5s(1).join("\n"))).status).toBe(201);
    const limited = await busy(md5s(1).join("\n"));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await contract.check("createJob", limited)).toMatchObject({ error: { code: "rate_limited" } });
  });

  it("GET /api/jobs/{id}: 200 with an ETag, 304 to If-None-Match, a change feed, and its refusals", async () => {
    const { id } = await created(await create(md5s(3).join("\n"), { "content-type": "text/plain" }));
    const first = await report(id, "?limit=2");
    const etag = first.headers.get("etag")!;
    expect(etag).toMatch(/^W\//);
    const page = (await contract.check("getJobReport", first)) as { nextCursor: string; changeCursor: string };
    const notModified = await report(id, "", { "if-none-match": etag });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get("etag")).toBe(etag);
    await contract.check("getJobReport", notModified);
    await contract.check("getJobReport", await report(id, `?limit=2&cursor=${page.nextCursor}`));
    await contract.check("getJobReport", await report(id, `?since=${page.changeCursor}`));
    await contract.check("getJobReport", await report(id, "?status=pending,failed&minDetected=0&sort=detections&order=asc&hash=D"));

    expect(await contract.check("getJobReport", await report(id, "?limit=0"))).toMatchObject({ error: { code: "invalid_parameter" } });
    expect(await contract.check("getJobReport", await report(id, "?since=x&status=failed"))).toMatchObject({ error: { code: "invalid_parameter" } });
    expect(await contract.check("getJobReport", await report("AAAAAAAAAAAAAAAAAAAAAA"))).toMatchObject({ error: { code: "not_found" } });
  });

  it("GET /api/jobs/{id}/export: csv, json and ndjson as attachments; 400, 404, and 503 unavailable when every slot is taken", async () => {
    const { id } = await created(await create(md5s(2).join("\n"), { "content-type": "text/plain" }, "?name=export"));
    for (const format of ["csv", "json", "ndjson"]) {
      const response = await exportOf(id, `?format=${format}`);
      expect(response.headers.get("content-disposition")).toBe(`attachment; filename="hashscan-export-${id}.${format}"`);
      const body = await contract.check("exportJob", response);
      if (format === "csv") {
        const header = (body as string).split("\r\n")[0].split(",");
        const record = contract.document.components.schemas.ExportRecord as { properties: object };
        expect(header.length).toBe(Object.keys(record.properties).length);
      } else {
        expect(body).toHaveLength(2);
      }
    }
    expect(await contract.check("exportJob", await exportOf(id, "?format=xlsx"))).toMatchObject({ error: { code: "invalid_parameter" } });
    expect(await contract.check("exportJob", await exportOf("AAAAAAAAAAAAAAAAAAAAAA"))).toMatchObject({ error: { code: "not_found" } });

    // Exports whose bodies nobody reads yet hold their slots (4 per process): the next one is turned away.
    const held: Response[] = [];
    try {
      for (let i = 0; i < 4; i++) held.push(await exportOf(id));
      expect(held.map((response) => response.status)).toEqual([200, 200, 200, 200]);
      const turnedAway = await exportOf(id);
      expect(await contract.check("exportJob", turnedAway)).toMatchObject({ error: { code: "unavailable" } });
    } finally {
      await Promise.all(held.map((response) => response.body?.cancel()));
    }
  });

  it("cancel and retry: 200 with the manage token; 401, 403, 404 and 409 otherwise", async () => {
    const hashes = md5s(2);
    const job = await created(await create(hashes.join("\n"), { "content-type": "text/plain" }));
    const token = { ...bearer(), "x-manage-token": job.manageToken };
    await failTasks(t.db, hashes[0], "contract test");
    expect(await contract.check("retryJob", await manage(RETRY, job.id, token))).toEqual({ retried: 1 });
    expect(await contract.check("cancelJob", await manage(CANCEL, job.id, token))).toEqual({ cancelled: 2 });
    expect(await contract.check("retryJob", await manage(RETRY, job.id, token))).toMatchObject({ error: { code: "conflict" } });

    const unknown = "AAAAAAAAAAAAAAAAAAAAAA";
    for (const [operationId, route] of [["cancelJob", CANCEL], ["retryJob", RETRY]] as const) {
      const refusals: [Response, string][] = [
        [await manage(route, job.id, { "x-manage-token": job.manageToken }), "unauthorized"],
        [await manage(route, job.id, bearer()), "forbidden"],
        [await manage(route, unknown, { ...bearer(), "x-manage-token": manageTokenFor(unknown) }), "not_found"],
      ];
      for (const [response, code] of refusals) expect(await contract.check(operationId, response)).toMatchObject({ error: { code } });
    }
  });

  it("GET /api/hashes/{hash}: 200 from the cache; 400, 401 and 404", async () => {
    // A report as the simulator serves it, summarised as a lookup would store it.
    const served = simulatedReport("1".repeat(64));
    const file = summarizeReport(fileReportSchema.parse(served));
    await saveReport(t.db, file, served, "simulator");
    expect(await contract.check("getCachedReport", await hash(file.sha1))).toMatchObject({ sha256: file.sha256, source: "simulator" });
    expect(await contract.check("getCachedReport", await hash("xyz"))).toMatchObject({ error: { code: "invalid_parameter" } });
    expect(await contract.check("getCachedReport", await hash(file.md5, {}))).toMatchObject({ error: { code: "unauthorized" } });
    expect(await contract.check("getCachedReport", await hash("0".repeat(64)))).toMatchObject({ error: { code: "not_found" } });
  });

  it("GET /api/status, /api/health and /api/openapi.json: 200", async () => {
    await contract.check("getServiceStatus", await STATUS());
    expect(await contract.check("getHealth", await HEALTH())).toMatchObject({ status: "ok", database: "ok" });
    await contract.check("getOpenApiDocument", await OPENAPI(new Request(`${BASE}/api/openapi.json`)));
  });

  it("saw every success the document lists, and every error code but internal from a real route", () => {
    for (const { operation } of contract.operations()) {
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) >= 400) continue;
        for (const mediaType of response.content ? Object.keys(response.content) : ["-"]) {
          expect(contract.seen.get(operation.operationId), `${operation.operationId} ${status} ${mediaType}`).toContain(`${status} ${mediaType}`);
        }
      }
    }
    const answered = appErrorCodeSchema.options.filter((code) => code !== "internal");
    expect([...contract.codesSeen].sort()).toEqual([...answered].sort());
  });
});
