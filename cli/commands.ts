// The three commands. stdout carries only what was asked for (the report, the submission, the status), so that it
// can be redirected to a file; progress, counts and hints go to stderr. Each returns its exit code (errors.ts).
import type { Readable, Writable } from "node:stream";
import type { JobReport } from "@/lib/jobs/api-schema";
import { plural } from "@/lib/plural";
import { HashscanApi } from "./api-client";
import type { Command } from "./args";
import { EXIT, exitCodeOf } from "./errors";
import { duration, jsonText, serviceStatusText, submissionCsv, submissionText } from "./format";
import { describeList, readHashList } from "./input";
import { ProgressReporter, type ProgressOutput } from "./progress";
import { printReport, write, type Stdout } from "./report-output";
import { resolveInputPath, type Env } from "./settings";
import { waitForJob } from "./wait";

export interface Io {
  stdout: Stdout;
  stderr: Writable & ProgressOutput;
  stdin: Readable;
  env: Env;
}

type Submit = Extract<Command, { kind: "submit" }>;
type Get = Extract<Command, { kind: "get" }>;
type Status = Extract<Command, { kind: "status" }>;

export async function submit(command: Submit, io: Io): Promise<number> {
  const list = await readHashList(command.file, resolveInputPath(command.file, io.env), io.stdin);
  await write(io.stderr, `${describeList(list)}\n`);

  const api = new HashscanApi(command.connection);
  const job = await api.createJob(list.bytes, command.name);
  if (!command.wait) {
    const text = { table: submissionText, csv: submissionCsv, json: jsonText }[command.format](job);
    await write(io.stdout, text);
    return EXIT.ok;
  }
  // The report on stdout will not say how to manage the job: its token is said now, while the wait can be long.
  await write(io.stderr, `Job ${job.id}: ${job.url}\nManage token (X-Manage-Token, to cancel or retry): ${job.manageToken}\n`);
  return waitAndPrint(api, job.id, command, io);
}

export async function get(command: Get, io: Io): Promise<number> {
  const api = new HashscanApi(command.connection);
  if (command.wait) return waitAndPrint(api, command.id, command, io);
  const answer = await api.report(command.id, { limit: "1" });
  return finish(api, command.id, answer!.report, command, io);
}

export async function status(command: Status, io: Io): Promise<number> {
  const service = await new HashscanApi(command.connection).status();
  await write(io.stdout, command.format === "json" ? jsonText(service) : serviceStatusText(service, Date.now()));
  return EXIT.ok;
}

async function waitAndPrint(api: HashscanApi, id: string, command: Submit | Get, io: Io): Promise<number> {
  const progress = new ProgressReporter(io.stderr);
  // Ctrl-C stops the waiting, not the job.
  const interrupted = () => {
    progress.finish();
    io.stderr.write(`Stopped waiting; the job goes on: hashscan get ${id} --wait\n`);
    process.exit(EXIT.interrupted);
  };
  process.once("SIGINT", interrupted);
  let summary: JobReport;
  try {
    summary = await waitForJob(api, id, { deadline: command.timeoutMs === null ? null : Date.now() + command.timeoutMs, progress });
  } finally {
    process.off("SIGINT", interrupted);
  }
  return finish(api, id, summary, command, io, progress);
}

/** The summary on stderr, then the report as it stands (partial when lookups are pending: exit 3 says so). */
async function finish(api: HashscanApi, id: string, summary: JobReport, command: Submit | Get, io: Io, progress = new ProgressReporter(io.stderr)): Promise<number> {
  progress.finish(summary);
  const { pending } = summary.counts;
  if (pending > 0) {
    const why = command.wait ? `Timed out after ${duration(command.timeoutMs!)}` : "Not done yet";
    await write(io.stderr, `${why}: ${plural(pending, "lookup")} pending; the job goes on (hashscan get ${id} --wait).\n`);
  }
  await printReport(api, id, command.format, io.stdout);
  return exitCodeOf(summary.counts);
}
