// Progress on stderr while a job is waited for: on a terminal one line, rewritten in place; in a log (not a
// terminal) a line when something is first known, then at most one every EVERY_MS, and the last state at the end.
import type { JobReport } from "@/lib/jobs/api-schema";
import { cell, progressLine } from "./format";

export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

const EVERY_MS = 10_000;
const CLEAR_LINE = "\r\u001b[2K";

export class ProgressReporter {
  private shown = "";
  private lastPrintAt = -Infinity;
  private onScreen = false;

  constructor(
    private readonly out: ProgressOutput,
    private readonly now: () => number = Date.now,
  ) {}

  update(report: JobReport): void {
    this.show(progressLine(report, this.now()));
  }

  /** Something in the way (the server not answering), said where the progress goes. */
  note(message: string): void {
    this.show(cell(message), true);
  }

  /** The last state stays visible: a terminal's line is ended, a log gets the state if it has not yet. */
  finish(report?: JobReport): void {
    const line = report ? progressLine(report, this.now()) : this.shown;
    if (this.out.isTTY) {
      if (report) this.show(line);
      if (this.onScreen) this.out.write("\n");
      this.onScreen = false;
    } else if (line && line !== this.shown) {
      this.out.write(`${line}\n`);
    }
  }

  private show(line: string, urgent = false): void {
    if (this.out.isTTY) {
      if (this.onScreen && line === this.shown) return;
      // Wider than the terminal, the line would wrap, and \r would rewrite only its last row.
      const width = Math.max((this.out.columns ?? 80) - 1, 20);
      this.out.write(CLEAR_LINE + (line.length > width ? `${line.slice(0, width - 1)}…` : line));
      this.onScreen = true;
    } else {
      const now = this.now();
      if (line === this.shown || (!urgent && this.shown && now - this.lastPrintAt < EVERY_MS)) return;
      this.out.write(`${line}\n`);
      // A note does not put off the next progress line.
      if (!urgent) this.lastPrintAt = now;
    }
    this.shown = line;
  }
}
