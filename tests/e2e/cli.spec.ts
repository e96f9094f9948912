// The command-line client (cli/) as a user runs it: the `hashscan` bin (cli/hashscan.mjs) started from a directory
// outside the checkout, against the suite's stack (built app, worker, simulator). No browser: each test spawns the
// client and reads its exit code, stdout and stderr.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { createJobResponseSchema, serviceStatusSchema, type JobReport } from "../../lib/jobs/api-schema";
import { projectRoot } from "../../scripts/processes";
import { E2E_BASE_URL, E2E_OUTPUT_DIR } from "./settings";

const BIN = path.join(projectRoot, "cli/hashscan.mjs");
// tests/fixtures/vt/001015aafcae….json by MD5: always found.
const FOUND = "b214da9f6b0d6e6de5090b3f9672defe";
// The simulator's documented answers (lib/virustotal/simulator/README.md), on hashes no earlier run has asked:
// a synthetic report or not found (both an answer); `bad0`, a body that is not JSON, which fails the lookup at once;
// `5030`, 503 every time, retried with backoff for about 17 minutes, so the row stays pending throughout a test.
const freshHash = () => `e2ec${randomBytes(14).toString("hex")}`;
const malformedHash = () => `bad0${randomBytes(14).toString("hex")}`;
const unavailableHash = () => `5030${randomBytes(30).toString("hex")}`;
const MALFORMED_REASON = "VirusTotal answered HTTP 200 with a body that is not JSON";
// Every wait that should end on its own is bounded below the test's timeout: a client left waiting would outlive it.
const BOUNDED = ["--timeout", "90s"];
const CSV_HEADER = "hash,type,status,md5,sha1,sha256,fortinet_name,fortinet_category,detected,engines,scan_date,meaningful_name,file_type,error";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

// A directory outside the checkout: the bin must find its own tsconfig (the `@/` paths) from anywhere.
let workDir: string;
test.beforeAll(() => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), "hashscan-cli-e2e-"));
});
test.afterAll(() => fs.rmSync(workDir, { recursive: true, force: true }));

/** `hashscan …args` with HASHSCAN_URL pointing at the stack, `input` on stdin. */
function hashscan(args: string[], options: { input?: string; env?: Record<string, string>; cwd?: string; command?: string[] } = {}): Promise<Run> {
  const started = Date.now();
  const [program, ...prefix] = options.command ?? [process.execPath, BIN];
  const child = spawn(program, [...prefix, ...args], {
    cwd: options.cwd ?? workDir,
    env: { ...process.env, HASHSCAN_URL: E2E_BASE_URL, HASHSCAN_TOKEN: "", ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  child.stdin.end(options.input ?? "");
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
  });
}

const said = (run: Run) => `exit ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;

async function reportOf(id: string): Promise<JobReport> {
  const response = await fetch(`${E2E_BASE_URL}/api/jobs/${id}?limit=1000`);
  expect(response.status).toBe(200);
  return (await response.json()) as JobReport;
}

const jobIdIn = (stderr: string) => /^Job ([\w-]{22}): /m.exec(stderr)?.[1];
const manageTokenIn = (stderr: string) => /^Manage token [^:]*: (\S+)$/m.exec(stderr)?.[1];
const tableRow = (stdout: string, hash: string) => stdout.split("\n").find((line) => line.startsWith(hash)) ?? "";

async function cancel(id: string, manageToken: string) {
  const response = await fetch(`${E2E_BASE_URL}/api/jobs/${id}/cancel`, { method: "POST", headers: { "x-manage-token": manageToken } });
  expect(response.status).toBe(200);
}

test.describe.configure({ timeout: 120_000 });

test("submit FILE --wait prints the report once every hash has an answer, and exits 0", async () => {
  const fresh = freshHash();
  fs.writeFileSync(path.join(workDir, "iocs.txt"), `# from the CLI test\n${FOUND};dropper\n${fresh}\nnot a hash\n${FOUND.toUpperCase()}\n`);
  const run = await hashscan(["submit", "iocs.txt", "--wait", "--name", "CLI e2e", ...BOUNDED]);
  expect(run.code, said(run)).toBe(0);
  expect(run.stderr).toContain("Read iocs.txt: 2 hashes (2 MD5), 1 repeat dropped, 1 line without a hash (line 4 \"not a hash\"");
  const id = jobIdIn(run.stderr)!;
  expect(run.stderr).toContain(`Job ${id}: ${E2E_BASE_URL}/jobs/${id}`);
  expect(manageTokenIn(run.stderr)).toMatch(/^[\w-]{43}$/);
  expect(run.stderr).toMatch(/^Complete: 2 of 2 looked up \(100%\)/m);

  const report = await reportOf(id);
  expect(report).toMatchObject({ name: "CLI e2e", status: "completed", counts: { total: 2, pending: 0, failed: 0 } });
  const lines = run.stdout.trimEnd().split("\n");
  expect(lines[0]).toMatch(/^HASH +STATUS +FORTINET +DETECTED +SCAN DATE$/);
  expect(lines).toHaveLength(3);
  const found = report.results.find((result) => result.hash === FOUND)!;
  expect(tableRow(run.stdout, FOUND)).toMatch(
    new RegExp(`^${FOUND} +completed +${escape(found.fortinet ?? found.fortinetCategory ?? "")} +${found.detected} / ${found.engines} +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC$`),
  );
  expect(tableRow(run.stdout, fresh)).toMatch(/ (completed|not_found)\b/);
});

test("a hash whose lookup failed makes the exit code 1, and the table says why", async () => {
  const bad = malformedHash();
  const run = await hashscan(["submit", "-", "--wait", ...BOUNDED], { input: `${FOUND}\n${bad}\n` });
  expect(run.code, said(run)).toBe(1);
  expect(run.stderr).toContain("Read stdin: 2 hashes (2 MD5)");
  expect(run.stderr).toMatch(/^Complete: 2 of 2 looked up \(100%\) · 1 completed, 1 failed$/m);
  expect(tableRow(run.stdout, bad)).toMatch(new RegExp(`^${bad} +failed .* {2}${MALFORMED_REASON}$`));
  expect(run.stdout.split("\n")[0]).toMatch(/SCAN DATE +NOTE$/);
});

test("--timeout ends the wait with exit 3 and the report as it stands; get says 3 until the job is done, then 1 once cancelled", async () => {
  const waiting = unavailableHash();
  const run = await hashscan(["submit", "-", "--wait", "--timeout", "1s", "--format", "json"], { input: `${FOUND}\n${waiting}\n` });
  expect(run.code, said(run)).toBe(3);
  expect(run.stderr).toMatch(/Timed out after 1 s: 1 lookup pending; the job goes on \(hashscan get [\w-]{22} --wait\)/);
  // The timeout starts once the job is created; the rest is the client's start and the report's download.
  expect(run.ms).toBeLessThan(30_000);
  const rows = JSON.parse(run.stdout) as { hash: string; status: string }[];
  expect(rows.find((row) => row.hash === waiting)?.status).toBe("pending");
  const id = jobIdIn(run.stderr)!;

  // Once tried (and refused), the pending row says when it is tried next.
  await expect
    .poll(async () => (await reportOf(id)).results.find((result) => result.hash === waiting)?.retryAt, { timeout: 30_000 })
    .toBeTruthy();
  const waited = await hashscan(["get", id, "--wait", "--timeout", "2s"]);
  expect(waited.code, said(waited)).toBe(3);
  expect(tableRow(waited.stdout, waiting)).toMatch(/ pending .*next try \d{4}-/);
  const got = await hashscan(["get", id]);
  expect(got.code, said(got)).toBe(3);
  expect(got.stderr).toMatch(/Not done yet: 1 lookup pending/);

  await cancel(id, manageTokenIn(run.stderr)!);
  const cancelled = await hashscan(["get", id]);
  expect(cancelled.code, said(cancelled)).toBe(1);
  expect(tableRow(cancelled.stdout, waiting)).toMatch(/ cancelled\b/);
});

test("--format csv is the server's own export, header and values", async () => {
  const fresh = freshHash();
  const run = await hashscan(["submit", "-", "--wait", "--format", "csv", ...BOUNDED], { input: `${FOUND}\n${fresh}\n` });
  expect(run.code, said(run)).toBe(0);
  const id = jobIdIn(run.stderr)!;
  const lines = run.stdout.split("\r\n");
  expect(lines[0]).toBe(CSV_HEADER);
  expect(lines).toHaveLength(4); // header, two rows, and the empty string after the last CRLF
  const found = (await reportOf(id)).results.find((result) => result.hash === FOUND)!;
  expect(lines[1].startsWith(`${FOUND},md5,completed,${found.md5},${found.sha1},${found.sha256},${found.fortinet ?? ""},${found.fortinetCategory ?? ""},${found.detected},${found.engines},${found.scanDate},`)).toBe(true);
  expect(lines[2]).toMatch(new RegExp(`^${fresh},md5,(completed|not_found),`));

  const exported = await (await fetch(`${E2E_BASE_URL}/api/jobs/${id}/export?format=csv`)).text();
  expect(run.stdout).toBe(exported);
  const got = await hashscan(["get", id, "--format", "csv"]);
  expect(got.code, said(got)).toBe(0);
  expect(got.stdout).toBe(exported);
});

test("without --wait, submit prints the job, its report URL and manage token; get --wait then prints its report", async () => {
  const hashes = `${FOUND}\n${freshHash()}\n`;
  const asJson = await hashscan(["submit", "-", "--format", "json"], { input: hashes });
  expect(asJson.code, said(asJson)).toBe(0);
  const job = createJobResponseSchema.parse(JSON.parse(asJson.stdout));
  expect(job).toMatchObject({ url: `${E2E_BASE_URL}/jobs/${job.id}`, accepted: 2, manageToken: expect.stringMatching(/^[\w-]{43}$/) });

  const asTable = await hashscan(["submit", "-"], { input: hashes });
  expect(asTable.code, said(asTable)).toBe(0);
  expect(asTable.stdout).toMatch(/^Job +[\w-]{22}\nReport +http:\/\/\S+\/jobs\/[\w-]{22}\nManage token +[\w-]{43} {2}\(X-Manage-Token: needed to cancel or retry\)\nAccepted +2 hashes, 0 repeats dropped, 0 lines without a hash\n$/);

  const got = await hashscan(["get", job.id, "--wait", "--format", "json", ...BOUNDED]);
  expect(got.code, said(got)).toBe(0);
  const rows = JSON.parse(got.stdout) as { hash: string; status: string }[];
  expect(rows.map((row) => row.hash)).toEqual(hashes.trim().split("\n"));
  expect(rows.every((row) => row.status === "completed" || row.status === "not_found")).toBe(true);
});

test("status shows the lookup service", async () => {
  const table = await hashscan(["status"]);
  expect(table.code, said(table)).toBe(0);
  expect(table.stdout).toMatch(/^Source +simulator/m);
  expect(table.stdout).toMatch(/^Requests +\d+ \/ [\d,]+ per minute/m);
  expect(table.stdout).toMatch(/^Workers +\S+ \(\d+ at once, heard \d+ s ago\)/m);
  const json = await hashscan(["status", "--format", "json"]);
  expect(json.code, said(json)).toBe(0);
  expect(serviceStatusSchema.parse(JSON.parse(json.stdout)).workers.length).toBeGreaterThan(0);
});

test("usage mistakes, a list without a hash and an unknown job exit 2 with what is wrong", async () => {
  const noFile = await hashscan(["submit"]);
  expect(noFile.code).toBe(2);
  expect(noFile.stderr).toBe("hashscan: submit needs FILE (or - for stdin)\nRun hashscan --help for the commands and options.\n");
  const unknown = await hashscan(["status", "--verbose"]);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain("hashscan: unknown option --verbose");
  const help = await hashscan(["--help"]);
  expect(help.code).toBe(0);
  expect(help.stdout).toContain("hashscan submit FILE|-");

  const empty = await hashscan(["submit", "-", "--wait"], { input: "# nothing here\nsha512 but no hash\n" });
  expect(empty.code).toBe(2);
  expect(empty.stderr).toBe("hashscan: stdin holds no MD5, SHA-1 or SHA-256 hash (1 line without one; line 2: no MD5, SHA-1 or SHA-256 found)\n");
  const missing = await hashscan(["submit", "no-such-file.txt"]);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toBe("hashscan: cannot read no-such-file.txt: no such file\n");

  const notFound = await hashscan(["get", "AAAAAAAAAAAAAAAAAAAAAA"]);
  expect(notFound.code).toBe(2);
  expect(notFound.stderr).toBe(`hashscan: ${E2E_BASE_URL} refused (404 not_found): No job with id "AAAAAAAAAAAAAAAAAAAAAA".\n`);
});

test("a server that cannot be reached exits 2, after trying again", async () => {
  const port = await closedPort();
  const server = `http://127.0.0.1:${port}`;
  const status = await hashscan(["status", "--server", server]);
  expect(status.code, said(status)).toBe(2);
  expect(status.stderr).toBe(`hashscan: cannot reach ${server}: connection refused\n`);
  const submitted = await hashscan(["submit", "-"], { input: FOUND, env: { HASHSCAN_URL: server } });
  expect(submitted.code, said(submitted)).toBe(2);
  expect(submitted.stderr).toContain(`hashscan: cannot reach ${server}: connection refused`);
  // Two more tries, 1 s and 2 s apart.
  expect(submitted.ms).toBeGreaterThan(3000);
});

test("npm run hashscan reads FILE from the directory it was typed in", async () => {
  const dir = path.join(projectRoot, E2E_OUTPUT_DIR, `cli-${randomBytes(4).toString("hex")}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "here.txt"), `${FOUND}\n`);
  const run = await hashscan(["run", "--silent", "hashscan", "--", "submit", "here.txt", "--wait", "--format", "csv", ...BOUNDED], { cwd: dir, command: ["npm"] });
  expect(run.code, said(run)).toBe(0);
  expect(run.stdout.split("\r\n")[1]).toMatch(new RegExp(`^${FOUND},md5,completed,`));
});

/** A port nothing listens on: one the system just handed out, closed again. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
