// GET /api/hashes/{hash}: the cached report of one file by any of its names, through the real route and database,
// behind the API token when API_TOKENS is set; never a request to VirusTotal, never a simulated report under a key.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GET } from "../../app/api/hashes/[hash]/route";
import { recordNotFound, saveReport } from "../../lib/db/queries/reports";
import { parseEnv } from "../../lib/env";
import { hashReportSchema } from "../../lib/jobs/api-schema";
import { readCachedReport } from "../../lib/jobs/cached-report";
import { cachePolicy } from "../../lib/jobs/settings";
import type { ReportSummary } from "../../lib/virustotal";
import { createTestDatabase, type TestDatabase } from "./helpers/test-database";

const TOKEN = "hash-reports-token-0123456789";
let t: TestDatabase;
const saved = { ...process.env };
beforeAll(async () => {
  t = await createTestDatabase("hash_reports");
  process.env.DATABASE_URL = t.url;
  process.env.API_TOKENS = TOKEN;
});
afterAll(async () => {
  if (saved.API_TOKENS === undefined) delete process.env.API_TOKENS;
  else process.env.API_TOKENS = saved.API_TOKENS;
  await t?.drop();
});

const file: ReportSummary = {
  md5: "44d88612fea8a8f36de82e1278abb02f",
  sha1: "3395856ce81f2b7382dee72602f798b642f14140",
  sha256: "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
  fortinet: "EICAR_TEST_FILE",
  fortinetCategory: "malicious",
  detected: 61,
  engines: 66,
  scanDate: new Date("2026-11-30T10:00:00Z"),
  meaningfulName: "eicar.com",
  fileType: "DOS COM",
};

const get = (hash: string, token: string | null = TOKEN) =>
  GET(new Request(`http://hashscan.test/api/hashes/${hash}`, { headers: token ? { authorization: `Bearer ${token}` } : {} }), {
    params: Promise.resolve({ hash }),
  });

describe("GET /api/hashes/{hash}", () => {
  beforeAll(async () => saveReport(t.db, file, { data: {} }, "simulator"));

  it("answers the cached report by any of the file's three names, in any case", async () => {
    for (const name of [file.sha256, file.md5, file.sha1.toUpperCase()]) {
      const response = await get(name);
      expect(response.status).toBe(200);
      const body = hashReportSchema.parse(await response.json());
      expect(body).toMatchObject({
        hash: name.toLowerCase(),
        status: "completed",
        sha256: file.sha256,
        md5: file.md5,
        sha1: file.sha1,
        fortinet: "EICAR_TEST_FILE",
        detected: 61,
        engines: 66,
        scanDate: "2026-11-30T10:00:00.000Z",
        source: "simulator",
        error: null,
        retryAt: null,
      });
      expect(body.hashType).toBe(name.length === 32 ? "md5" : name.length === 40 ? "sha1" : "sha256");
      expect(body.ageSeconds).toBeGreaterThanOrEqual(0);
      expect(body.ageSeconds).toBeLessThan(60);
    }
  });

  it("needs the API token where API_TOKENS is set", async () => {
    const response = await get(file.md5, null);
    expect(response.status).toBe(401);
    expect((await response.json()).error.code).toBe("unauthorized");
    expect((await get(file.md5, "not-a-token-of-this-deployment")).status).toBe(401);
  });

  it("is a 404 for a file not looked up, one VirusTotal did not know, and a report past the cache's freshness", async () => {
    const unknown = await get("0".repeat(64));
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error).toEqual({ code: "not_found", message: expect.stringMatching(/No report of this file fetched in the last 24 hours/) });

    await recordNotFound(t.db, "1".repeat(32), "simulator");
    const notKnown = await get("1".repeat(32));
    expect(notKnown.status).toBe(404);
    expect((await notKnown.json()).error.message).toMatch(/VirusTotal did not know this file when it was asked at 20/);

    const stale = { ...file, md5: "2".repeat(32), sha1: "2".repeat(40), sha256: "2".repeat(64) };
    await saveReport(t.db, stale, {}, "simulator");
    expect((await get(stale.md5)).status).toBe(200);
    await t.sql`update reports set fetched_at = now() - interval '25 hours' where md5 = ${stale.md5}`;
    expect((await get(stale.md5)).status).toBe(404);
  });

  it("refuses what is not an MD5, SHA-1 or SHA-256 with a 400", async () => {
    for (const bad of ["abc", "g".repeat(32), "a".repeat(128), "%00"]) {
      const response = await get(bad);
      expect(response.status).toBe(400);
      expect((await response.json()).error).toEqual({ code: "invalid_parameter", message: expect.stringMatching(/32, 40 or 64 hexadecimal/) });
    }
  });

  it("never shows a simulated report while a real key is set", async () => {
    const withKey = cachePolicy(parseEnv({ VT_API_KEY: "k".repeat(64), DATABASE_URL: t.url }));
    await expect(readCachedReport(t.db, file.md5, withKey)).rejects.toMatchObject({ code: "not_found" });
    await saveReport(t.db, file, {}, "virustotal");
    expect((await readCachedReport(t.db, file.md5, withKey)).source).toBe("virustotal");
  });
});
