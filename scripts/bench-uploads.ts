// The upload part of `npm run bench`: a million hashes posted to a web process of their own, as text and as JSON,
// while a poller asks /api/status every 50 ms. Reports, per upload, the time until the 201, the process's peak
// resident memory (VmHWM: the web process was fresh, so the peak is the uploads'), and how many polls were
// answered in under 100 ms while it ran.
import fs from "node:fs";
import { entryPoints, spawnChild, waitForHttp } from "./processes";

export interface UploadResult {
  name: string;
  hashes: number;
  megabytes: number;
  seconds: number;
  peakMb: number;
  polls: number;
  quickPolls: number;
  slowestPollMs: number;
}

export const UPLOAD_TARGET_MB = 500;

export async function benchUploads(databaseUrl: string, port: number, count: number): Promise<UploadResult[]> {
  const base = `http://127.0.0.1:${port}`;
  const web = spawnChild("web-uploads", [entryPoints.next, "start", "-p", String(port)], {
    env: { DATABASE_URL: databaseUrl, VT_API_KEY: "", NODE_ENV: "production", NEXT_DIST_DIR: "" },
    onLine: () => {},
  });
  try {
    await waitForHttp(`${base}/api/status`, 60_000, web);
    const sha256 = (i: number) => `${i.toString(16).padStart(8, "0")}${"b".repeat(56)}`;
    const hashes = Array.from({ length: count }, (_, i) => sha256(i));
    const uploads = [
      { name: `${count.toLocaleString("en")} SHA-256 lines, text/plain`, type: "text/plain", body: Buffer.from(hashes.join("\n")) },
      { name: `${count.toLocaleString("en")} SHA-256 in a JSON array`, type: "application/json", body: Buffer.from(JSON.stringify({ hashes })) },
    ];
    const results: UploadResult[] = [];
    for (const upload of uploads) {
      let uploading = true;
      const latencies: number[] = [];
      const poller = (async () => {
        while (uploading) {
          const started = performance.now();
          await (await fetch(`${base}/api/status`)).arrayBuffer();
          latencies.push(performance.now() - started);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })();
      const started = performance.now();
      const response = await fetch(`${base}/api/jobs`, { method: "POST", headers: { "content-type": upload.type }, body: upload.body });
      const answer = (await response.json()) as { accepted?: number };
      const seconds = (performance.now() - started) / 1000;
      uploading = false;
      await poller;
      if (response.status !== 201 || answer.accepted !== count) throw new Error(`${upload.name}: HTTP ${response.status} ${JSON.stringify(answer).slice(0, 300)}`);
      results.push({
        name: upload.name,
        hashes: count,
        megabytes: upload.body.length / 1e6,
        seconds,
        peakMb: peakMemoryMb(web.process.pid!),
        polls: latencies.length,
        quickPolls: latencies.filter((ms) => ms < 100).length,
        slowestPollMs: Math.max(...latencies),
      });
    }
    return results;
  } finally {
    await web.stop();
  }
}

function peakMemoryMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
}
