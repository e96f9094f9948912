// Figures of `npm run bench`'s sections: each the median of several runs, with its min and max, so that one noisy
// run on a shared machine shows as a spread rather than as the figure.
import type postgres from "postgres";

export interface Figure {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export function figureOf(runs: number[]): Figure {
  const sorted = [...runs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length === 0 ? NaN : sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0] ?? NaN, max: sorted[sorted.length - 1] ?? NaN, runs };
}

/** `1.23 s (1.10–1.40)`: the median, then the range over the runs when there were several. */
export function formatFigure(f: Figure, unit: string, digits = 1): string {
  const n = (x: number) => x.toFixed(digits);
  return f.runs.length > 1 ? `${n(f.median)} ${unit} (${n(f.min)}–${n(f.max)})` : `${n(f.median)} ${unit}`;
}

/** A process's peak resident memory over a section, from the samples and /proc's VmHWM at its end. */
export type Peaks = Record<string, number>;

export function notePeak(peaks: Peaks, name: string, mb: number | undefined) {
  if (mb !== undefined && Number.isFinite(mb)) peaks[name] = Math.max(peaks[name] ?? 0, mb);
}

export const check = (ok: boolean) => (ok ? "✓" : "✗");

export function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/**
 * A server with autovacuum off (a test server's setting) never vacuums the queue, the leases and the counters that a
 * section churns through, and graphile-worker then walks ever more dead rows to fetch a job. Stand in for it while a
 * section runs: VACUUM ANALYZE every `everyMs` (autovacuum visits a database once a minute by default). Nothing on
 * a server where autovacuum is on.
 */
export function standInForAutovacuum(driver: postgres.Sql, everyMs = 30_000) {
  const seconds: number[] = [];
  let running: Promise<unknown> = Promise.resolve();
  let on = true;
  const timer = setInterval(() => {
    running = (async () => {
      await running;
      if (!on) return;
      const [{ autovacuum }] = await driver<{ autovacuum: string }[]>`select current_setting('autovacuum') as autovacuum`;
      if (autovacuum !== "off") return;
      const started = performance.now();
      await driver`vacuum analyze`;
      seconds.push((performance.now() - started) / 1000);
    })();
  }, everyMs);
  return {
    seconds,
    async stop() {
      on = false;
      clearInterval(timer);
      await running;
    },
  };
}
