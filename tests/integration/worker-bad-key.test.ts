// A key VirusTotal rejects pauses every lookup (nothing fails) and says why, until a worker restarts with a key
// that works; then the waiting lookups run at once. The key never shows: not in the worker's log, not in the web
// side's log, not in any API answer.
import { afterAll, beforeAll, expect, it } from "vitest";
import { POST as postJob } from "../../app/api/jobs/route";
import { GET as getJob } from "../../app/api/jobs/[id]/route";
import { GET as getStatus } from "../../app/api/status/route";
import { log } from "../../lib/log";
import { captureLog, type LogCapture } from "./helpers/log-capture";
import { startSimulator, startWorker, waitFor, type WorkerProcess } from "./helpers/stack";
import { createTestDatabase, type TestDatabase } from "./helpers/test-database";

// 64 characters like a real key, so the client's redaction applies (it skips short stand-ins); starting with
// "wrong", so the simulator refuses it; URL-safe, so the quota path's encoded form is the key itself.
const BAD_KEY = "wrong-LEAKCANARY-Qm2xZ9pVt4kRw8nHs3dJf6gLb1cYe5uTa0oKiXq7-CANARY";
const GOOD_KEY = "good-key-0123456789abcdef0123456789abcdef";
/** Every 16-character piece of the key (its first 16 and last 16 among them): a partial leak is a leak. */
const BAD_KEY_PIECES = Array.from({ length: BAD_KEY.length - 15 }, (_, i) => BAD_KEY.slice(i, i + 16));
const BASE = "http://hashscan.test";

let t: TestDatabase;
let sim: Awaited<ReturnType<typeof startSimulator>>;
let webLog: LogCapture;
const workers: WorkerProcess[] = [];
/** Every API answer this test obtained: status, headers and body, as received. */
const answers: { request: string; text: string }[] = [];

beforeAll(async () => {
  // This process is the web app, configured with the same (bad) key. Set before anything calls lib/env.ts's
  // env(), which parses once and caches (a fresh module graph per test file, so nothing is cached yet).
  process.env.VT_API_KEY = BAD_KEY;
  webLog = captureLog();
  t = await createTestDatabase("worker_bad_key");
  process.env.DATABASE_URL = t.url; // read once, by the routes' shared pool
  sim = await startSimulator();
});
afterAll(async () => {
  webLog?.stop();
  for (const worker of workers) await worker.stop();
  await sim?.simulator.close();
  await t?.drop();
});

async function recorded(request: string, response: Response) {
  const body = await response.text();
  answers.push({ request, text: `${response.status} ${JSON.stringify([...response.headers])} ${body}` });
  return { status: response.status, body: JSON.parse(body) };
}
const api = {
  createJob: async (hashes: string[]) =>
    recorded("POST /api/jobs", await postJob(
      new Request(`${BASE}/api/jobs`, { method: "POST", body: JSON.stringify({ hashes }), headers: { "content-type": "application/json" } }),
    )),
  job: async (id: string) =>
    recorded(`GET /api/jobs/${id}`, await getJob(new Request(`${BASE}/api/jobs/${id}`), { params: Promise.resolve({ id }) })),
  status: async () => recorded("GET /api/status", await getStatus()),
};

function start(key: string, extra: Record<string, string> = {}) {
  const worker = startWorker({ DATABASE_URL: t.url, VT_API_KEY: key, VT_API_URL: sim.apiUrl, ...extra });
  workers.push(worker);
  return worker;
}

/** Where any piece of the bad key shows, with the text around it; the only right answer is none. */
function leaks(): string[] {
  const places = [
    ...workers.flatMap((worker) => worker.lines.map((text) => ({ where: "worker log", text }))),
    ...webLog.lines().map((text) => ({ where: "web log", text })),
    ...answers.map(({ request, text }) => ({ where: `answer to ${request}`, text })),
  ];
  return places.flatMap(({ where, text }) => {
    const piece = BAD_KEY_PIECES.find((p) => text.includes(p));
    if (piece === undefined) return [];
    const at = text.indexOf(piece);
    return [`${where}: …${text.slice(Math.max(0, at - 60), at + 80)}…`];
  });
}

it("pauses on a rejected key without failing anything, resumes when the worker restarts with a good one, and never shows the key", async () => {
  // The web log check means something only if the capture sees what lib/log.ts writes.
  log.info({ probe: "worker-bad-key" }, "log capture probe");
  expect(webLog.lines().some((line) => line.includes('"probe":"worker-bad-key"'))).toBe(true);

  const worker = start(BAD_KEY, { WORKER_CONCURRENCY: "1" });
  const hashes = ["0496f4962d3dce3caa849f605749f7f2", "e85463d19104cacd79a25cacb0b57c1d", "ad04e313410dd865916b720e03e6b77e"];
  const created = await api.createJob(hashes);
  expect(created).toMatchObject({ status: 201, body: { accepted: 3 } });
  const id: string = created.body.id;

  // The pause belongs to the key's budget, so the web side sees it only if it runs with the same key.
  const paused = await waitFor("the pause", async () => {
    const report = (await api.job(id)).body;
    return report.pause ? report : undefined;
  });
  expect(paused).toMatchObject({ source: "virustotal", pause: { cause: "bad_key" } });
  expect(paused.pause.reason).toContain("VirusTotal rejected the API key (WrongCredentialsError: Wrong API key)");
  expect((await api.status()).body).toMatchObject({ source: "virustotal", pause: { cause: "bad_key" } });
  // Give the other lookups time to (wrongly) try: only the first request was spent, and nothing failed.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  expect(sim.simulator.requests().filter((r) => r.hash !== null)).toHaveLength(1);
  const stillPaused = (await api.job(id)).body;
  expect(stillPaused.counts).toMatchObject({ pending: 3, failed: 0 });
  for (const result of stillPaused.results) expect(result).toMatchObject({ error: null, retryAt: paused.pause.until });

  await worker.stop();
  start(GOOD_KEY);
  const done = await waitFor("the job to complete", async () => {
    const report = (await api.job(id)).body;
    return report.status === "completed" ? report : undefined;
  });
  // The good key has a budget of its own: the old key's pause does not hold it back.
  const pauses = await t.sql<{ cause: string }[]>`select cause from vt_pause where until > now()`;
  expect(pauses.map((p) => p.cause)).toEqual(["bad_key"]);
  expect(done.counts.failed).toBe(0);
  expect(done.counts.completed + done.counts.notFound).toBe(3);
  await api.status();

  expect(workers[0].lines.length).toBeGreaterThan(0);
  expect(leaks()).toEqual([]);
});
