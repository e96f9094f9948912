// The parse worker's entry: says it is ready once loaded, then takes bytes (transferred) and answers a
// ParsedUpload. Runs in a worker thread of the web process.
import { parentPort } from "node:worker_threads";
import { parseUploadBytes } from "./upload";

parentPort!.on("message", (bytes: Uint8Array) => {
  parentPort!.postMessage(parseUploadBytes(bytes));
});
parentPort!.postMessage("ready");
