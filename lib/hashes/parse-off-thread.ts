// Parses an upload in a worker thread, so that a large one never holds the web process's event loop (a million
// lines take about a second to parse). Server only.
import { Worker } from "node:worker_threads";
import { log } from "@/lib/log";
import { parseUploadBytes, type ParsedUpload } from "./upload";

// The built app runs the worker Turbopack bundles from the `new URL` below. Run from the TypeScript sources
// (vitest, tsx scripts), a .ts worker cannot start: learnt from the first attempt, the parse then runs inline.
let inlineOnly = false;

export async function parseUploadOffThread(bytes: Uint8Array): Promise<ParsedUpload> {
  if (inlineOnly) return parseUploadBytes(bytes);
  const worker = new Worker(new URL("./parse-worker.ts", import.meta.url));
  try {
    return await new Promise<ParsedUpload>((resolve, reject) => {
      let ready = false;
      worker.on("message", (message: "ready" | ParsedUpload) => {
        if (message !== "ready") return resolve(message);
        ready = true;
        // The bytes move to the worker rather than being copied; the caller has no further use for them.
        const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
        worker.postMessage(own, [own.buffer as ArrayBuffer]);
      });
      worker.once("error", (error: NodeJS.ErrnoException) => {
        if (!ready && error.code === "ERR_UNKNOWN_FILE_EXTENSION") {
          inlineOnly = true;
          resolve(parseUploadBytes(bytes));
        } else {
          log.error({ err: error }, "The parse worker failed");
          reject(error);
        }
      });
      worker.once("exit", (code) => reject(new Error(`The parse worker exited (${code}) before answering`)));
    });
  } finally {
    // Awaited: the worker's heap (hundreds of MB for a million lines) is freed before the caller writes the job.
    await worker.terminate();
  }
}
