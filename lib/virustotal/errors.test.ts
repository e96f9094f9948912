import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  BadKeyError,
  classifyHttpError,
  MalformedResponseError,
  NotFoundError,
  parseRetryAfter,
  QuotaExceededError,
  RequestRejectedError,
  TransientError,
  VirusTotalError,
} from "./errors";

const fixtures = new URL("../../tests/fixtures/vt/", import.meta.url);
const load = (name: string): unknown => JSON.parse(readFileSync(new URL(name, fixtures), "utf8"));
const vtError = (code: string, message: string) => ({ error: { code, message } });
const noHeaders = new Headers();

describe("classifyHttpError", () => {
  it("maps the real 404 body to NotFoundError", () => {
    const error = classifyHttpError(404, load("not_found.json"), noHeaders);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ kind: "not_found", status: 404, code: "NotFoundError" });
    expect(error.message).toMatch(/^VirusTotal has no report for this file \(NotFoundError: File "fffdddd2.*" not found\)$/);
  });

  it("maps the real 401 body to BadKeyError and says why", () => {
    const error = classifyHttpError(401, load("wrong_key.json"), noHeaders);
    expect(error).toBeInstanceOf(BadKeyError);
    expect(error).toMatchObject({ kind: "bad_key", status: 401, code: "WrongCredentialsError" });
    expect(error.message).toBe("VirusTotal rejected the API key (WrongCredentialsError: Wrong API key)");
  });

  it.each([
    [401, "AuthenticationRequiredError"],
    [401, "UserNotActiveError"],
    [403, "ForbiddenError"],
  ])("maps %i %s to BadKeyError", (status, code) => {
    const error = classifyHttpError(status, vtError(code, "nope"), noHeaders);
    expect(error).toBeInstanceOf(BadKeyError);
    expect(error.message).toBe(`VirusTotal rejected the API key (${code}: nope)`);
  });

  it("keeps the code so quota and per-minute rate limits can be told apart", () => {
    const quota = classifyHttpError(429, vtError("QuotaExceededError", "Quota exceeded"), noHeaders);
    const rate = classifyHttpError(429, vtError("TooManyRequestsError", "Too many requests"), noHeaders);
    expect(quota).toBeInstanceOf(QuotaExceededError);
    expect(rate).toBeInstanceOf(QuotaExceededError);
    expect(quota).toMatchObject({ kind: "quota", code: "QuotaExceededError" });
    expect(rate).toMatchObject({ kind: "quota", code: "TooManyRequestsError" });
    expect(quota.message).toBe("VirusTotal API quota exceeded (QuotaExceededError: Quota exceeded)");
    expect(rate.message).toBe("VirusTotal request rate limit reached (TooManyRequestsError: Too many requests)");
  });

  it.each([
    [503, vtError("TransientError", "try again")],
    [504, vtError("DeadlineExceededError", "too slow")],
    [400, vtError("NotAvailableYet", "not yet")],
    [408, ""],
    [500, "<html>Internal Server Error</html>"],
    [502, null],
  ])("maps %i %j to TransientError", (status, body) => {
    const error = classifyHttpError(status, body, noHeaders);
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ kind: "transient", status, retryAfterSeconds: null });
  });

  it("does not put an HTML error page in the message", () => {
    const error = classifyHttpError(502, "<html><body>Bad Gateway</body></html>", noHeaders);
    expect(error.message).toBe("VirusTotal is temporarily unavailable (HTTP 502)");
    expect(error.code).toBeNull();
  });

  it("reads Retry-After into the transient error", () => {
    const error = classifyHttpError(503, vtError("TransientError", "busy"), new Headers({ "retry-after": "30" }));
    expect(error).toMatchObject({ retryAfterSeconds: 30 });
    expect(error.message).toBe("VirusTotal is temporarily unavailable (TransientError: busy; retry after 30 s)");
  });

  it("falls back on the status when the body has no code", () => {
    expect(classifyHttpError(404, "", noHeaders)).toBeInstanceOf(NotFoundError);
    expect(classifyHttpError(429, {}, noHeaders)).toBeInstanceOf(QuotaExceededError);
    expect(classifyHttpError(403, { error: "forbidden" }, noHeaders)).toBeInstanceOf(BadKeyError);
    expect(classifyHttpError(401, null, noHeaders).message).toBe("VirusTotal rejected the API key (HTTP 401)");
  });

  it("treats an invalid request as permanent, with kind malformed", () => {
    const error = classifyHttpError(400, vtError("InvalidArgumentError", "Invalid file hash"), noHeaders);
    expect(error).toBeInstanceOf(RequestRejectedError);
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error).toMatchObject({ kind: "malformed", status: 400, code: "InvalidArgumentError" });
    expect(error.message).toBe("VirusTotal rejected the request (InvalidArgumentError: Invalid file hash)");
    expect(classifyHttpError(409, {}, noHeaders)).toBeInstanceOf(RequestRejectedError);
  });

  it("treats a status that is not an error as a malformed response", () => {
    const error = classifyHttpError(304, "", noHeaders);
    expect(error.constructor).toBe(MalformedResponseError);
    expect(error.message).toBe("VirusTotal answered with an unexpected HTTP status 304");
  });

  it("lets the status win over a code it does not know", () => {
    expect(classifyHttpError(503, vtError("SomethingNewError", "x"), noHeaders)).toBeInstanceOf(TransientError);
  });

  it("cuts a very long VirusTotal message", () => {
    const error = classifyHttpError(400, vtError("BadRequestError", "x".repeat(5000)), noHeaders);
    expect(error.message.length).toBeLessThan(300);
  });

  it("gives errors a name and keeps them Errors", () => {
    const error = classifyHttpError(404, load("not_found.json"), noHeaders);
    expect(error).toBeInstanceOf(VirusTotalError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("NotFoundError");
    expect(String(error)).toMatch(/^NotFoundError: VirusTotal has no report/);
  });
});

describe("parseRetryAfter", () => {
  const now = Date.parse("2024-01-01T00:00:00Z");

  it("reads seconds", () => {
    expect(parseRetryAfter("120", now)).toBe(120);
    expect(parseRetryAfter(" 0 ", now)).toBe(0);
  });

  it("reads an HTTP date as seconds from now", () => {
    expect(parseRetryAfter("Mon, 01 Jan 2024 00:01:30 GMT", now)).toBe(90);
  });

  it("never gives a negative delay for a date in the past", () => {
    expect(parseRetryAfter("Sun, 31 Dec 2023 23:00:00 GMT", now)).toBe(0);
  });

  it("ignores what it cannot read", () => {
    expect(parseRetryAfter(null, now)).toBeNull();
    expect(parseRetryAfter("soon", now)).toBeNull();
    expect(parseRetryAfter("-5", now)).toBeNull();
    expect(parseRetryAfter("", now)).toBeNull();
  });
});
