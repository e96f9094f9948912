// The upload part of `npm run bench`: a million hashes posted as text, then a million others as JSON, each to a
// fresh web process of its own, while a poller asks /api/status every 50 ms. Reports, per upload, the time until
// the 201, the process's peak resident memory (VmHWM: the process was fresh, so the peak is the upload's), and how
// many polls were answered in under 100 ms while it ran.
import { processMemory, spawnChild, waitForHttp, webArgs } from "./processes";

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

interface Upload {
  name: string;
  type: string;
  body: Uint8Array<ArrayBuffer>;
}

export async function benchUploads(databaseUrl: string, port: number, count: number): Promise<UploadResult[]> {
  // Distinct hashes per upload: each job queues its own lookups, none shares the other's.
  const hashes = (tag: string) => Array.from({ length: count }, (_, i) => `${tag}${i.toString(16).padStart(8, "0")}`.padEnd(64, "b"));
  const uploads: Upload[] = [
    { name: `${count.toLocaleString("en")} SHA-256 lines, text/plain`, type: "text/plain", body: new TextEncoder().encode(hashes("a").join("\n")) },
    { name: `${count.toLocaleString("en")} SHA-256 in a JSON array`, type: "application/json", body: new TextEncoder().encode(JSON.stringify({ hashes: hashes("c") })) },
  ];
  const results: UploadResult[] = [];
  for (const upload of uploads) results.push(await measureUpload(databaseUrl, port, upload, count));
  return results;
}

async function measureUpload(databaseUrl: string, port: number, upload: Upload, count: number): Promise<UploadResult> {
  const base = `http://127.0.0.1:${port}`;
  const web = spawnChild("web-uploads", webArgs("start", port), {
    env: { DATABASE_URL: databaseUrl, VT_API_KEY: "", NODE_ENV: "production", NEXT_DIST_DIR: "" },
    onLine: () => {},
  });
  try {
    await waitForHttp(`${base}/api/status`, 60_000, web);
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
    return {
      name: upload.name,
      hashes: count,
      megabytes: upload.body.length / 1e6,
      seconds,
      peakMb: processMemory(web.process.pid!)?.peakMb ?? NaN,
      polls: latencies.length,
      quickPolls: latencies.filter((ms) => ms < 100).length,
      slowestPollMs: Math.max(...latencies),
    };
  } finally {
    await web.stop();
  }
}
