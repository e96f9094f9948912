import pino from "pino";

/** Structured JSON lines on stdout, shared by the web app and the worker. The API key is never logged. */
export const log = pino({ base: undefined, redact: ["apiKey", "*.apiKey", "headers[\"x-apikey\"]"] });
