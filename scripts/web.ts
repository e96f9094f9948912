// The web app's HTTP server: Next's request handler behind a Node server of our own, so that every request carries
// the client's address as the deployment saw it (lib/access/client.ts). Next's own server keeps whatever
// X-Forwarded-For a client sends, which would let anyone pick the address the per-client limits count against.
//   node .next/web-server.mjs start [-p PORT] [-H HOST]   the built app: this file bundled by scripts/build-bundles.ts
//   tsx scripts/web.ts dev [-p PORT] [-H HOST]            development, from the sources
import http from "node:http";
import { parseArgs } from "node:util";
import next from "next";
import { CLIENT_ADDRESS_HEADER, clientAddress } from "@/lib/access/client";
import { env } from "@/lib/env";

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { port: { type: "string", short: "p" }, hostname: { type: "string", short: "H" } },
});
const mode = positionals[0] ?? "start";
if (mode !== "start" && mode !== "dev") throw new Error(`Unknown mode ${JSON.stringify(mode)}: start or dev`);
const port = Number(values.port ?? env().port);
const hostname = values.hostname ?? "0.0.0.0";
const trustedHops = env().trustedProxyHops;

const app = next({ dev: mode === "dev", dir: process.cwd(), hostname, port });
const handle = app.getRequestHandler();
await app.prepare();
const upgrade = app.getUpgradeHandler();

const server = http.createServer((request, response) => {
  const forwardedFor = request.headers["x-forwarded-for"];
  request.headers[CLIENT_ADDRESS_HEADER] = clientAddress(
    request.socket.remoteAddress,
    Array.isArray(forwardedFor) ? forwardedFor.join(",") : forwardedFor,
    trustedHops,
  );
  handle(request, response).catch((error: unknown) => {
    console.error(`Failed to handle ${request.method} ${request.url}`, error);
    if (!response.headersSent) response.statusCode = 500;
    response.end();
  });
});
// Hot reload's websocket in development; the built app serves no websocket, so an upgrade is refused, not left open.
if (mode === "dev") server.on("upgrade", (request, socket, head) => void upgrade(request, socket, head).catch(() => socket.destroy()));
else server.on("upgrade", (_request, socket) => socket.destroy());
server.listen(port, hostname, () => console.log(`Web app (${mode}) listening on http://${hostname}:${port}`));

let closing = false;
const close = () => {
  if (closing) return;
  closing = true;
  // Requests in flight finish (an upload may be mid-transaction); idle keep-alive sockets close now.
  server.close(() => void app.close().finally(() => process.exit(0)));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 30_000).unref();
};
process.once("SIGTERM", close);
process.once("SIGINT", close);
