// How much of the allowed VirusTotal rate the engine uses under steady load, with the real 60-second window.
// `npm run measure:rate [-- --workers 3 --per-minute 30 --seconds 150]`: an embedded PostgreSQL of its own, the
// simulator in this process, N real worker processes, more hashes than can be done; prints a report.
import { parseArgs } from "node:util";
import postgres from "postgres";
import { createDb } from "../lib/db/client";
import { startEmbeddedPostgres } from "../lib/db/embedded";
import { migrateDatabase } from "../lib/db/migrate";
import { createJob } from "../lib/jobs/create";
import { createSimulator } from "../lib/virustotal/simulator/server";
import { entryPoints, spawnChild } from "./processes";

const { values } = parseArgs({
  options: {
    workers: { type: "string", default: "3" },
    "per-minute": { type: "string", default: "30" },
    seconds: { type: "string", default: "150" },
  },
});
const workers = Number(values.workers);
const perMinute = Number(values["per-minute"]);
const seconds = Number(values.seconds);

const server = await startEmbeddedPostgres({ dir: "data/measure-postgres", port: 54359, database: "postgres" });
const admin = postgres(server.url, { max: 1, onnotice: () => {} });
const name = `measure_${Date.now()}`;
await admin.unsafe(`create database ${name}`);
const url = server.url.replace(/\/postgres$/, `/${name}`);
await migrateDatabase(url);
const simulator = createSimulator({ latencyMs: 100 });
const apiUrl = `http://127.0.0.1:${await simulator.listen(0)}/api/v3`;
const children = Array.from({ length: workers }, () =>
  spawnChild("worker", [entryPoints.tsx, entryPoints.worker], {
    env: { DATABASE_URL: url, VT_API_KEY: "", SIMULATOR_URL: apiUrl, VT_REQUESTS_PER_MINUTE: String(perMinute), WORKER_CONCURRENCY: "4" },
    onLine: () => {},
  }),
);
await new Promise((resolve) => setTimeout(resolve, 5000));

const db = createDb(url);
const hashes = Array.from({ length: perMinute * Math.ceil(seconds / 60 + 2) }, (_, i) => `dead${i.toString(16).padStart(28, "0")}`);
await createJob(db, { hashes }, { cache: { ttlHours: 24, sources: ["simulator"] }, lookupMaxAttempts: 3 });
console.log(`${workers} workers, ${perMinute} requests per 60 s allowed, ${hashes.length} hashes queued; measuring for ${seconds} s…`);
await new Promise((resolve) => setTimeout(resolve, seconds * 1000));

const times = simulator
  .requests()
  .filter((r) => r.hash !== null)
  .map((r) => Date.parse(r.at));
let busiest = 0;
for (let i = 0, j = 0; i < times.length; i++) {
  while (times[i] - times[j] >= 60_000) j++;
  busiest = Math.max(busiest, i - j + 1);
}
// After the first window's burst, each further window's worth of requests should take 60 s.
const span = (times[times.length - 1] - times[0]) / 1000;
const used = ((times.length - perMinute) / perMinute) * 60;
console.log(`requests: ${times.length}, statuses: ${[...new Set(simulator.requests().map((r) => r.status))].join(", ")}`);
console.log(`busiest 60-second window: ${busiest} requests (limit ${perMinute})`);
console.log(`steady state: ${times.length - perMinute} requests after the first window's ${perMinute}, over ${span.toFixed(1)} s`);
console.log(`rate used: ${((used / span) * 100).toFixed(1)}% of the allowed rate`);

await Promise.all(children.map((child) => child.stop()));
await db.$client.end();
await simulator.close();
await admin.unsafe(`drop database ${name} with (force)`);
await admin.end();
await server.stop();
