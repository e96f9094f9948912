// `npm run simulator`: serves the VirusTotal simulator with the settings from lib/env.ts until SIGTERM or SIGINT.
import { env } from "../../env";
import { createSimulator } from "./server";

const { host, port, latencyMs, requestsPerMinute, requestsPerDay } = env().simulator;
const simulator = createSimulator({ latencyMs, requestsPerMinute, requestsPerDay });
const bound = await simulator.listen(port, host);
console.log(`VirusTotal simulator listening on http://${host}:${bound}/api/v3`);

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    void simulator.close().then(() => process.exit(0));
  });
}
