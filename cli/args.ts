// The command line, read into one command: node's own parseArgs, then the checks it cannot make (which options
// each command takes, formats, durations). Pure: the environment's defaults come in as `defaults`.
import { parseArgs } from "node:util";
import { z } from "zod";
import { isJobId, jobNameSchema } from "@/lib/jobs/api-schema";
import { ArgumentError } from "./errors";

export const FORMATS = ["table", "csv", "json"] as const;
export type Format = (typeof FORMATS)[number];

export interface Connection {
  /** The server's address without a trailing slash. */
  server: string;
  token: string | null;
}

export type Command =
  | { kind: "help" }
  | { kind: "submit"; file: string; name: string | null; wait: boolean; timeoutMs: number | null; format: Format; connection: Connection }
  | { kind: "get"; id: string; wait: boolean; timeoutMs: number | null; format: Format; connection: Connection }
  | { kind: "status"; format: Exclude<Format, "csv">; connection: Connection };

export interface Defaults {
  server: string;
  token: string | null;
}

export const USAGE = `Usage:
  hashscan submit FILE|- [--name N] [--wait] [--timeout DUR] [--format table|csv|json] [--server URL] [--token T]
  hashscan get ID [--wait] [--timeout DUR] [--format table|csv|json] [--server URL] [--token T]
  hashscan status [--format table|json] [--server URL] [--token T]

  submit   sends a list of MD5, SHA-1 or SHA-256 hashes (a file, or - for stdin) to be looked up. Without --wait
           it prints the job's id, report URL and manage token (needed to cancel or retry); with --wait it shows
           progress on stderr and prints the report when every hash is done.
  get      prints the report of a job as it stands (--wait: once every hash is done).
  status   prints the lookup service's state: requests against the limits, the queue, any pause, the workers.

Options:
  --name N         the job's name (up to 200 characters)
  --wait           wait until no lookup is pending, then print the report
  --timeout DUR    with --wait: stop waiting after DUR (90s, 30m, 2h, 1d, or seconds) and exit 3
  --format F       table (the default), csv or json; csv and json are the report's export, as the web page's
  --server URL     the Hashscan server (default: $HASHSCAN_URL, else http://localhost:3000)
  --token T        an API token, sent as Authorization: Bearer (default: $HASHSCAN_TOKEN)
  -h, --help       this help

Exit codes:
  0  every hash has an answer (completed or not found)
  1  the job is done, but some hashes have none (failed, or cancelled)
  2  a usage mistake, or an error from the server or the network
  3  lookups are still pending (--timeout reached, or get of a job not done yet)
`;

const OPTIONS = {
  name: { type: "string" },
  wait: { type: "boolean" },
  timeout: { type: "string" },
  format: { type: "string" },
  server: { type: "string" },
  token: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;
type OptionName = keyof typeof OPTIONS;

const COMMON: OptionName[] = ["format", "server", "token"];
const ALLOWED: Record<"submit" | "get" | "status", OptionName[]> = {
  submit: ["name", "wait", "timeout", ...COMMON],
  get: ["wait", "timeout", ...COMMON],
  status: COMMON,
};

export function parseCommand(argv: string[], defaults: Defaults): Command {
  const { values, positionals } = readArgs(argv);
  if (values.help || positionals[0] === "help") return { kind: "help" };
  const [command, ...rest] = positionals;
  if (command === undefined) throw new ArgumentError("no command given: submit, get or status");
  if (command !== "submit" && command !== "get" && command !== "status") {
    throw new ArgumentError(`unknown command ${JSON.stringify(command)}: submit, get or status`);
  }
  for (const option of Object.keys(values) as OptionName[]) {
    if (option !== "help" && !ALLOWED[command].includes(option)) throw new ArgumentError(`${command} takes no --${option}`);
  }
  if (values.timeout !== undefined && !values.wait) throw new ArgumentError("--timeout applies to --wait: add --wait");
  const connection = { server: parseServer(values.server ?? defaults.server), token: (values.token ?? defaults.token) || null };
  const format = parseFormat(values.format);

  if (command === "status") {
    expectPositionals(command, rest, 0);
    if (format === "csv") throw new ArgumentError("status prints table or json, not csv");
    return { kind: "status", format, connection };
  }
  const wait = values.wait ?? false;
  const timeoutMs = values.timeout === undefined ? null : parseDuration(values.timeout);
  if (command === "get") {
    const [id] = expectPositionals(command, rest, 1, "ID");
    if (!isJobId(id)) throw new ArgumentError(`${JSON.stringify(id)} is not a job id (22 characters: letters, digits, - and _)`);
    return { kind: "get", id, wait, timeoutMs, format, connection };
  }
  const [file] = expectPositionals(command, rest, 1, "FILE (or - for stdin)");
  return { kind: "submit", file, name: parseName(values.name), wait, timeoutMs, format, connection };
}

function readArgs(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      const option = /'([^']+)'/.exec(message)?.[1] ?? "";
      throw new ArgumentError(`unknown option ${option}`);
    }
    if (code?.startsWith("ERR_PARSE_ARGS_")) throw new ArgumentError(message.split("\n")[0]);
    throw error;
  }
}

function expectPositionals(command: string, rest: string[], count: number, what = ""): string[] {
  if (rest.length < count) throw new ArgumentError(`${command} needs ${what}`);
  if (rest.length > count) throw new ArgumentError(`${command} takes ${count === 0 ? "no argument" : `one ${what}`}; also given: ${rest.slice(count).join(" ")}`);
  return rest;
}

/** As the server will store it (control characters as spaces; empty is none), or refused before anything is sent. */
function parseName(value: string | undefined): string | null {
  const name = jobNameSchema.safeParse(value);
  if (!name.success) throw new ArgumentError(`--name: ${z.prettifyError(name.error)}`);
  return name.data ?? null;
}

function parseFormat(value: string | undefined): Format {
  if (value === undefined) return "table";
  if ((FORMATS as readonly string[]).includes(value)) return value as Format;
  throw new ArgumentError(`--format must be ${FORMATS.join(", ")}, not ${JSON.stringify(value)}`);
}

function parseServer(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ArgumentError(`--server must be an http or https URL, not ${JSON.stringify(value)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ArgumentError(`--server must be an http or https URL, not ${JSON.stringify(value)}`);
  }
  if (url.search || url.hash) throw new ArgumentError("--server takes the server's address alone, without ? or #");
  return url.href.replace(/\/+$/, "");
}

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** "90s", "30m", "2h", "1d", or plain seconds ("45", "0.5"): milliseconds, more than 0. */
export function parseDuration(value: string): number {
  const match = /^(\d+(?:\.\d+)?)([smhd]?)$/.exec(value.trim());
  const ms = match ? Number(match[1]) * UNIT_MS[(match[2] || "s") as keyof typeof UNIT_MS] : NaN;
  if (!(ms > 0)) throw new ArgumentError(`--timeout takes a duration such as 90s, 30m, 2h, 1d or seconds, not ${JSON.stringify(value)}`);
  return Math.round(ms);
}
