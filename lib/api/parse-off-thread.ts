// Reads a job's body in a worker thread, so that a large one never holds the web process's event loop (a million
// lines take a second or two to parse, a million-element JSON array as long). Server only.
import { Worker } from "node:worker_threads";
import { concurrencyLimit } from "@/lib/concurrency";
import { AppError } from "@/lib/errors";
import { log } from "@/lib/log";
import { readJobBody, type BodyRefusal, type BodyRequest, type JobBody } from "./job-body";

/** A parse of a million lines holds a few hundred MB: a few at a time per process, the rest wait their turn. */
const parses = concurrencyLimit(2);
/** A parse that has not answered by then is ended (a million lines take about a second). */
const PARSE_TIMEOUT_MS = 120_000;

// The built app runs the worker Turbopack bundles from the `new URL` below. Run from the TypeScript sources
// (vitest, tsx scripts), a .ts worker cannot start: learnt from the first attempt, the parse then runs inline.
let inlineOnly = false;
const CANNOT_LOAD = new Set(["ERR_UNKNOWN_FILE_EXTENSION", "ERR_MODULE_NOT_FOUND"]);

export async function readJobBodyOffThread(request: BodyRequest): Promise<JobBody> {
  if (inlineOnly) return readJobBody(request);
  return parses(() => readInWorker(request));
}

type Answer = "ready" | { body: JobBody } | { refusal: BodyRefusal };

async function readInWorker(request: BodyRequest): Promise<JobBody> {
  const worker = new Worker(new URL("./parse-worker.ts", import.meta.url));
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<JobBody>((resolve, reject) => {
      let ready = false;
      timer = setTimeout(() => reject(new Error(`The parse worker did not answer within ${PARSE_TIMEOUT_MS / 1000} s`)), PARSE_TIMEOUT_MS);
      worker.on("message", (answer: Answer) => {
        if (answer === "ready") {
          ready = true;
          return send(worker, request, reject);
        }
        if ("refusal" in answer) reject(new AppError(answer.refusal.code, answer.refusal.message));
        else resolve(answer.body);
      });
      worker.once("messageerror", reject);
      worker.once("error", (error: NodeJS.ErrnoException) => {
        if (!ready && error.code && CANNOT_LOAD.has(error.code)) {
          log.warn({ code: error.code }, "The parse worker cannot be loaded here (running from the sources?): parsing inline from now on");
          inlineOnly = true;
          try {
            resolve(readJobBody(request));
          } catch (inlineError) {
            reject(inlineError);
          }
        } else {
          log.error({ err: error }, "The parse worker failed");
          reject(error);
        }
      });
      worker.once("exit", (code) => reject(new Error(`The parse worker exited (${code}) before answering`)));
    });
  } finally {
    clearTimeout(timer);
    // Awaited: the worker's heap (hundreds of MB for a million lines) is freed before the caller writes the job.
    await worker.terminate();
  }
}

/** The bytes move to the worker rather than being copied; the caller has no further use for them. */
function send(worker: Worker, request: BodyRequest, reject: (error: unknown) => void) {
  try {
    const { bytes } = request;
    const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
    worker.postMessage({ ...request, bytes: own }, [own.buffer as ArrayBuffer]);
  } catch (error) {
    reject(error);
  }
}
