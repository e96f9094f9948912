// The parse worker's entry: says it is ready once loaded, then takes one body (its bytes transferred) and answers
// the read body, its row blocks transferred back, or the refusal (an AppError's code and message). Runs in a
// worker thread of the web process.
import { parentPort } from "node:worker_threads";
import { AppError } from "@/lib/errors";
import { readJobBody, type BodyRefusal, type BodyRequest } from "./job-body";

parentPort!.on("message", (request: BodyRequest) => {
  let body;
  try {
    body = readJobBody(request);
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    const refusal: BodyRefusal = { code: error.code, message: error.message };
    return parentPort!.postMessage({ refusal });
  }
  parentPort!.postMessage({ body }, body.upload.rows.map((block) => block.buffer as ArrayBuffer));
});
parentPort!.postMessage("ready");
