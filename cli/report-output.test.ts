// The report on stdout: the export streamed through, and on a terminal, without the control characters a server
// could put in it (a CSV's cells, or a JSON export that is not what our server writes).
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import type { HashscanApi } from "./api-client";
import { printReport, type Stdout } from "./report-output";

function capture(isTTY: boolean): { out: Stdout; text: () => string } {
  const chunks: Buffer[] = [];
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(Buffer.from(chunk));
      done();
    },
  }) as Stdout;
  out.isTTY = isTTY;
  return { out, text: () => Buffer.concat(chunks).toString() };
}

const exporting = (body: string) =>
  ({ exportBody: async () => new Response(body).body! }) as unknown as HashscanApi;

describe("printReport", () => {
  const hostile = '[{"hash":"b214da9f6b0d6e6de5090b3f9672defe","meaningfulName":"\u001b]0;owned\u0007\u009b2J"}]\n';

  it.each(["json", "csv"] as const)("shows a %s export on a terminal without control characters", async (format) => {
    const { out, text } = capture(true);
    await printReport(exporting(hostile), "AbCdEfGhIjKlMnOpQrSt_-", format, out);
    expect(text()).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/);
    expect(text()).toContain("b214da9f6b0d6e6de5090b3f9672defe");
  });

  it("writes an export to a file or a pipe as it came", async () => {
    const { out, text } = capture(false);
    await printReport(exporting(hostile), "AbCdEfGhIjKlMnOpQrSt_-", "json", out);
    expect(text()).toBe(hostile);
  });
});
