import { describe, expect, it } from "vitest";
import { parseCommand, parseDuration, type Command } from "./args";
import { ArgumentError } from "./errors";
import { clientDefaults, resolveInputPath } from "./settings";

const defaults = { server: "http://localhost:3000", token: null };
const parse = (...argv: string[]): Command => parseCommand(argv, defaults);
const refusal = (...argv: string[]) => {
  try {
    parse(...argv);
  } catch (error) {
    expect(error).toBeInstanceOf(ArgumentError);
    return (error as Error).message;
  }
  throw new Error(`${argv.join(" ")} was accepted`);
};
const ID = "AbCdEfGhIjKlMnOpQrSt_-";

describe("parseCommand", () => {
  it("reads submit with every option", () => {
    expect(
      parse("submit", "hashes.txt", "--name", "triage", "--wait", "--timeout", "30m", "--format", "csv", "--server", "https://hs.example/", "--token", "t0k3n"),
    ).toEqual({
      kind: "submit",
      file: "hashes.txt",
      name: "triage",
      wait: true,
      timeoutMs: 30 * 60_000,
      format: "csv",
      connection: { server: "https://hs.example", token: "t0k3n" },
    });
  });

  it("takes - for stdin, and the defaults: table, no wait, the environment's server and token", () => {
    expect(parseCommand(["submit", "-"], { server: "http://hs:8080", token: "from-env" })).toEqual({
      kind: "submit",
      file: "-",
      name: null,
      wait: false,
      timeoutMs: null,
      format: "table",
      connection: { server: "http://hs:8080", token: "from-env" },
    });
  });

  it("keeps a server's path (a deployment under a prefix) without its trailing slash", () => {
    expect(parse("status", "--server", "https://example.org/hashscan/")).toMatchObject({ connection: { server: "https://example.org/hashscan" } });
  });

  it("reads get and status", () => {
    expect(parse("get", ID, "--format", "json", "--wait")).toMatchObject({ kind: "get", id: ID, format: "json", wait: true, timeoutMs: null });
    expect(parse("status")).toEqual({ kind: "status", format: "table", connection: { server: "http://localhost:3000", token: null } });
  });

  it("asks for help with --help, -h or help, whatever else is there", () => {
    for (const argv of [["--help"], ["-h"], ["help"], ["submit", "--help"], ["get", "-h"]]) expect(parse(...argv)).toEqual({ kind: "help" });
  });

  it("names what is wrong", () => {
    expect(refusal()).toBe("no command given: submit, get or status");
    expect(refusal("scan", "x")).toBe('unknown command "scan": submit, get or status');
    expect(refusal("submit", "x", "--bogus")).toBe("unknown option --bogus");
    expect(refusal("submit", "x", "-q")).toBe("unknown option -q");
    expect(refusal("submit")).toBe("submit needs FILE (or - for stdin)");
    expect(refusal("submit", "a", "b")).toBe("submit takes one FILE (or - for stdin); also given: b");
    expect(refusal("submit", "x", "--name")).toMatch(/--name/);
    expect(refusal("submit", "x", "--timeout", "5m")).toBe("--timeout applies to --wait: add --wait");
    expect(refusal("submit", "x", "--format", "xml")).toBe('--format must be table, csv, json, not "xml"');
    expect(refusal("submit", "x", "--server", "localhost:3000")).toMatch(/--server must be an http or https URL/);
    expect(refusal("submit", "x", "--server", "ftp://h")).toMatch(/--server must be an http or https URL/);
    expect(refusal("submit", "x", "--name", "n".repeat(201))).toMatch(/--name: .*at most 200 characters/);
    expect(refusal("get", ID, "--name", "n")).toBe("get takes no --name");
    expect(refusal("get", "nope")).toBe('"nope" is not a job id (22 characters: letters, digits, - and _)');
    expect(refusal("status", "--wait")).toBe("status takes no --wait");
    expect(refusal("status", "--format", "csv")).toBe("status prints table or json, not csv");
    expect(refusal("status", "extra")).toBe("status takes no argument; also given: extra");
  });

  it("stores a name as the server will: control characters as spaces, blank as none", () => {
    expect(parse("submit", "x", "--name", "a\tb\u001b[31m ")).toMatchObject({ name: "a b [31m" });
    expect(parse("submit", "x", "--name", "  ")).toMatchObject({ name: null });
  });
});

describe("parseDuration", () => {
  it("reads seconds, minutes, hours, days and plain seconds", () => {
    expect(parseDuration("90s")).toBe(90_000);
    expect(parseDuration("30m")).toBe(1_800_000);
    expect(parseDuration("2h")).toBe(7_200_000);
    expect(parseDuration("1d")).toBe(86_400_000);
    expect(parseDuration("45")).toBe(45_000);
    expect(parseDuration("1.5")).toBe(1500);
  });

  it("refuses anything else, and zero", () => {
    for (const value of ["", "0", "0s", "-5", "5x", "1h30m", "s", "1e3", " m"]) {
      expect(() => parseDuration(value), value).toThrow(ArgumentError);
    }
  });
});

describe("the client's environment", () => {
  it("takes HASHSCAN_URL and HASHSCAN_TOKEN, an empty value counting as unset", () => {
    expect(clientDefaults({})).toEqual({ server: "http://localhost:3000", token: null });
    expect(clientDefaults({ HASHSCAN_URL: "http://hs:1", HASHSCAN_TOKEN: "t" })).toEqual({ server: "http://hs:1", token: "t" });
    expect(clientDefaults({ HASHSCAN_URL: "", HASHSCAN_TOKEN: "" })).toEqual({ server: "http://localhost:3000", token: null });
  });

  it("reads a FILE from where `npm run hashscan` was typed, not from the checkout's root it runs in", () => {
    const npm = { npm_lifecycle_event: "hashscan", npm_package_name: "hashscan", INIT_CWD: "/home/me/cases" };
    expect(resolveInputPath("iocs.txt", npm, "/opt/hashscan")).toBe("/home/me/cases/iocs.txt");
    expect(resolveInputPath("/tmp/iocs.txt", npm, "/opt/hashscan")).toBe("/tmp/iocs.txt");
    // Run by another package's script, a path means that package's.
    expect(resolveInputPath("iocs.txt", { ...npm, npm_lifecycle_event: "scan", npm_package_name: "soar" }, "/srv/soar")).toBe("/srv/soar/iocs.txt");
    expect(resolveInputPath("iocs.txt", {}, "/home/me")).toBe("/home/me/iocs.txt");
  });
});
