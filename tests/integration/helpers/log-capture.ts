// What lib/log.ts writes in the test process itself: the web side's log while route handlers run in-process.
import pino from "pino";
import { vi } from "vitest";
import { log } from "../../../lib/log";

export interface LogCapture {
  /** Every line the logger wrote since the capture started, as written (serialized and redacted). */
  lines(): string[];
  stop(): void;
}

/**
 * Records what the shared logger hands its destination, and still writes it. pino writes to file descriptor 1
 * itself (sonic-boom), not through process.stdout.write, so a spy on stdout would see nothing; its destination
 * stream is reachable through pino's public `symbols`.
 */
export function captureLog(): LogCapture {
  const destination = (log as unknown as Record<symbol, pino.DestinationStream>)[pino.symbols.streamSym];
  const write = vi.spyOn(destination, "write");
  return {
    lines: () => write.mock.calls.map(([line]) => String(line).trimEnd()),
    stop: () => write.mockRestore(),
  };
}
