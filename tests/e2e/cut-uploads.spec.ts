// Uploads cut off mid-body over real HTTP: a client sends headers that promise more (a Content-Length, or chunked
// transfer encoding), megabytes of hash lines, then destroys its socket. Nothing is written, then or seconds later,
// nothing is logged as an error, and the web process answers on. It is a web process of this spec's own, on a
// database of its own with no worker, so that a queue row written by mistake would stay there to be counted.
// tests/integration/cut-uploads.test.ts cuts the body stream under the route handler itself.
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { expect, test } from "@playwright/test";
import postgres from "postgres";
import { migrateDatabase } from "../../lib/db/migrate";
import { isListening } from "../../lib/net";
import { projectRoot, spawnChild, waitForHttp, webArgs, type Child } from "../../scripts/processes";
import { E2E_ENV, E2E_OUTPUT_DIR, E2E_PORT } from "./settings";

const CUT_PORT = E2E_PORT + 8;
const CUT_URL = `http://localhost:${CUT_PORT}`;
const WEB_LOG = `${E2E_OUTPUT_DIR}/e2e-cut-uploads-web.log`;

/** A whole upload: 4,000 distinct SHA-256s, over and over, to 24 MB. */
const DISTINCT = 4000;
const WHOLE_BYTES = 24 * 1024 * 1024;
/**
 * Where it is cut. An unread socket on this loopback takes about 4 MB before its writer must wait: once 12 MB are
 * through, the web process was reading the body when its client went away.
 */
const CUT_BYTES = 12 * 1024 * 1024;
/** How long nothing may appear after the last cut: a job written late (a parse that carried on) would show by then. */
const QUIET_MS = 5000;

let web: Child | undefined;
const webLines: string[] = [];
let admin: postgres.Sql | undefined;
let sql: postgres.Sql | undefined;
let databaseName: string | undefined;

test.describe.configure({ timeout: 120_000 });

test.beforeAll(async () => {
  // A production build's web process, on a machine that may be busy.
  test.setTimeout(180_000);
  const stackUrl = process.env.E2E_DATABASE_URL;
  if (!stackUrl) throw new Error("E2E_DATABASE_URL is not set: global-setup.ts hands the stack's database to the specs through it.");
  if (await isListening(CUT_PORT)) throw new Error(`Port ${CUT_PORT} is already in use; this spec's web process needs it.`);

  // A database of this spec's own, on the stack's server.
  const serverUrl = new URL(stackUrl);
  serverUrl.pathname = "/postgres";
  admin = postgres(serverUrl.toString(), { max: 1, onnotice: () => {} });
  databaseName = `cut_uploads_e2e_${randomBytes(4).toString("hex")}`;
  await admin.unsafe(`create database "${databaseName}"`);
  const databaseUrl = new URL(stackUrl);
  databaseUrl.pathname = `/${databaseName}`;
  await migrateDatabase(databaseUrl.toString());
  sql = postgres(databaseUrl.toString(), { max: 1, onnotice: () => {} });

  const logPath = path.join(projectRoot, WEB_LOG);
  fs.mkdirSync(path.dirname(logPath), { recursive: true });
  fs.writeFileSync(logPath, "");
  web = spawnChild("web-cut-uploads", webArgs("start", CUT_PORT), {
    env: {
      NEXT_TELEMETRY_DISABLED: "1",
      ...E2E_ENV,
      PORT: String(CUT_PORT),
      DATABASE_URL: databaseUrl.toString(),
      // The suite's own build, as global-setup serves it.
      ...(process.env.NEXT_DIST_DIR ? { NEXT_DIST_DIR: process.env.NEXT_DIST_DIR } : {}),
    },
    onLine: (name, line) => {
      webLines.push(line);
      fs.appendFileSync(logPath, `[${name}] ${line}\n`);
    },
  });
  try {
    await waitForHttp(`${CUT_URL}/api/health`, 150_000, web);
  } catch (error) {
    await web.stop();
    const tail = webLines.slice(-20).join("\n");
    throw new Error(`This spec's web process did not start: ${(error as Error).message}\nLast lines of ${WEB_LOG}:\n${tail}`, { cause: error });
  }
});

test.afterAll(async () => {
  await web?.stop();
  await sql?.end();
  if (databaseName) await admin?.unsafe(`drop database if exists "${databaseName}" with (force)`);
  await admin?.end();
});

interface Upload {
  what: string;
  path: string;
  headers: Record<string, string>;
  body: Uint8Array<ArrayBuffer>;
  framing: "content-length" | "chunked";
}

const encode = (text: string) => new TextEncoder().encode(text);

/** `DISTINCT` SHA-256s of their own (so that each whole upload adds its own tasks and queue rows), repeated to size. */
function hashLines(seed: string): string[] {
  const distinct = Array.from({ length: DISTINCT }, (_, i) => createHash("sha256").update(`${seed} ${i}`).digest("hex"));
  return Array.from({ length: Math.ceil(WHOLE_BYTES / 65) }, (_, i) => distinct[i % DISTINCT]);
}

async function apiUploads(): Promise<Upload[]> {
  const text = (seed: string) => encode(hashLines(seed).join("\n"));
  const form = new FormData();
  form.append("name", "cut mid-file");
  form.append("file", new Blob([hashLines("multipart").join("\n")], { type: "text/plain" }), "hashes.txt");
  const multipart = new Request(`${CUT_URL}/api/jobs`, { method: "POST", body: form });
  const api = (what: string, headers: Record<string, string>, body: Uint8Array<ArrayBuffer>, framing: Upload["framing"]): Upload => ({
    what,
    path: "/api/jobs",
    headers,
    body,
    framing,
  });
  return [
    api("text/plain with a Content-Length", { "content-type": "text/plain" }, text("text length"), "content-length"),
    api("text/plain, chunked", { "content-type": "text/plain" }, text("text chunked"), "chunked"),
    api("a multipart file", { "content-type": multipart.headers.get("content-type")! }, new Uint8Array(await multipart.arrayBuffer()), "content-length"),
    api("JSON, chunked", { "content-type": "application/json" }, encode(JSON.stringify({ hashes: hashLines("json") })), "chunked"),
  ];
}

/**
 * Sends the upload's headers and its first `CUT_BYTES` on a socket of its own, waits until the web process has taken
 * them all off the socket (it is reading the body, and has not answered), then destroys the socket.
 */
async function sendCutOff(upload: Upload): Promise<void> {
  const socket = net.connect(CUT_PORT, "127.0.0.1");
  const answered: Buffer[] = [];
  socket.on("data", (data: Buffer) => answered.push(data));
  // A write's own callback reports a failed write; without a listener, the same error would end the test process.
  socket.on("error", () => {});
  let timer: NodeJS.Timeout | undefined;
  try {
    await once(socket, "connect");
    const head = [
      `POST ${upload.path} HTTP/1.1`,
      `Host: localhost:${CUT_PORT}`,
      ...Object.entries(upload.headers).map(([name, value]) => `${name}: ${value}`),
      upload.framing === "chunked" ? "Transfer-Encoding: chunked" : `Content-Length: ${upload.body.byteLength}`,
    ];
    socket.write(`${head.join("\r\n")}\r\n\r\n`);
    // Write callbacks come in order: the last one's means every byte before it left too.
    let flushed: Promise<void> = Promise.resolve();
    for (let at = 0; at < CUT_BYTES; at += 256 * 1024) {
      const chunk = upload.body.subarray(at, Math.min(at + 256 * 1024, CUT_BYTES));
      const piece = upload.framing === "chunked" ? Buffer.concat([Buffer.from(`${chunk.byteLength.toString(16)}\r\n`), chunk, Buffer.from("\r\n")]) : chunk;
      flushed = new Promise((resolve, reject) => socket.write(piece, (error) => (error ? reject(error) : resolve())));
    }
    await Promise.race([
      flushed,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("the web process stopped reading the body")), 30_000);
      }),
    ]).catch((error: Error) => {
      const answer = JSON.stringify(Buffer.concat(answered).toString().slice(0, 500));
      throw new Error(`${upload.what}: ${error.message}; it answered ${answer}`, { cause: error });
    });
    // Still waiting for the rest of the body: no answer yet.
    expect(Buffer.concat(answered).toString(), upload.what).toBe("");
  } finally {
    clearTimeout(timer);
    socket.destroy();
  }
}

async function rowCounts() {
  const [counts] = await sql!<{ jobs: number; tasks: number; queued: number }[]>`
    select (select count(*)::int from jobs) as jobs,
           (select count(*)::int from tasks) as tasks,
           (select count(*)::int from graphile_worker._private_jobs) as queued`;
  return counts;
}

/** The counts stay as they were for `QUIET_MS`: nothing was written, nor is written late. */
async function expectNothingWrittenSince(before: Awaited<ReturnType<typeof rowCounts>>) {
  const until = Date.now() + QUIET_MS;
  while (Date.now() < until) {
    expect(await rowCounts()).toEqual(before);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function expectHealthy() {
  expect(web!.process.exitCode).toBeNull();
  const health = await fetch(`${CUT_URL}/api/health`);
  expect(health.status).toBe(200);
  expect(await health.json()).toMatchObject({ status: "ok", database: "ok" });
}

/** pino's error and fatal lines among `lines`. */
const errorLines = (lines: string[]) => lines.filter((line) => /"level":(50|60)\b/.test(line));

test("POST /api/jobs cut off mid-body (Content-Length or chunked; text, multipart, JSON) writes nothing, logs no error, and the web process answers on", async () => {
  const uploads = await apiUploads();
  const before = await rowCounts();
  const logFrom = webLines.length;
  for (const upload of uploads) await sendCutOff(upload);
  await expectNothingWrittenSince(before);
  // A client that went away is not a fault of ours: nothing at error level (it once read as a database outage).
  expect(errorLines(webLines.slice(logFrom))).toEqual([]);
  await expectHealthy();
});

test("the same uploads sent whole are jobs: what the cuts above would have written", async () => {
  for (const upload of await apiUploads()) {
    const before = await rowCounts();
    const body = upload.framing === "chunked" ? new Blob([upload.body]).stream() : upload.body;
    const response = await fetch(`${CUT_URL}${upload.path}`, { method: "POST", headers: upload.headers, body, duplex: "half" } as RequestInit);
    expect(response.status, upload.what).toBe(201);
    expect(await response.json(), upload.what).toMatchObject({ accepted: DISTINCT });
    expect(await rowCounts(), upload.what).toEqual({ jobs: before.jobs + 1, tasks: before.tasks + DISTINCT, queued: before.queued + DISTINCT });
  }
});

test("the home page's form, its upload cut off mid-file, writes nothing; sent whole, the same request is a job", async ({ page }, testInfo) => {
  // The browser's own server-action request, held back, is sent again below: cut off, then whole.
  await page.goto(`${CUT_URL}/`);
  // From a file on disk: as a buffer, 24 MB take Playwright longer than an action's timeout to hand over.
  const file = testInfo.outputPath("hashes.txt");
  fs.writeFileSync(file, hashLines("form").join("\n"));
  await page.locator("#file").setInputFiles(file);
  await expect(page.getByTestId("preview")).toContainText(`${DISTINCT.toLocaleString("en")} distinct hashes`);
  let captured: { headers: Record<string, string>; body: Uint8Array<ArrayBuffer> } | undefined;
  await page.route(`${CUT_URL}/`, async (route) => {
    const request = route.request();
    if (request.method() !== "POST" || !request.headers()["next-action"]) return route.continue();
    const headers = Object.fromEntries(
      Object.entries(await request.allHeaders()).filter(([name]) => !/^(host|content-length|connection|transfer-encoding|:.*)$/i.test(name)),
    );
    captured = { headers, body: new Uint8Array(request.postDataBuffer() ?? []) };
    await route.abort();
  });
  await page.getByRole("button", { name: "Look up hashes" }).click();
  await expect.poll(() => captured !== undefined).toBe(true);
  const upload = await withFileContent(captured!, new Uint8Array(fs.readFileSync(file)));
  expect(upload.body.byteLength).toBeGreaterThan(fs.statSync(file).size);

  const before = await rowCounts();
  await sendCutOff(upload);
  await expectNothingWrittenSince(before);
  await expectHealthy();

  const whole = await fetch(`${CUT_URL}/`, { method: "POST", headers: upload.headers, body: upload.body });
  expect(whole.status).toBe(200);
  expect(await whole.text()).toContain('"ok":true');
  expect(await rowCounts()).toEqual({ jobs: before.jobs + 1, tasks: before.tasks + DISTINCT, queued: before.queued + DISTINCT });
});

/**
 * The action's form as the browser sent it, with the chosen file's content in its file field: Chromium hands an
 * intercepted request's body over without the files in it.
 */
async function withFileContent(
  captured: { headers: Record<string, string>; body: Uint8Array<ArrayBuffer> },
  content: Uint8Array<ArrayBuffer>,
): Promise<Upload> {
  const sent = await new Response(captured.body, { headers: { "content-type": captured.headers["content-type"] } }).formData();
  const form = new FormData();
  for (const [name, value] of sent) {
    form.append(name, value instanceof File && name.endsWith("file") ? new File([content], value.name, { type: value.type }) : value);
  }
  const request = new Request(`${CUT_URL}/`, { method: "POST", body: form });
  return {
    what: "the form's server action",
    path: "/",
    headers: { ...captured.headers, "content-type": request.headers.get("content-type")! },
    body: new Uint8Array(await request.arrayBuffer()),
    framing: "content-length",
  };
}
