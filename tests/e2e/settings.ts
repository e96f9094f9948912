// Where the end-to-end stack runs: ports of its own, so it never clashes with `npm start` (3000, 4010, 54329).
// E2E_PORT_OFFSET moves all three, for a second suite run beside the first (with its own NEXT_DIST_DIR).
const offset = Number(process.env.E2E_PORT_OFFSET ?? 0);
export const E2E_PORT = 3100 + offset;
export const E2E_BASE_URL = `http://localhost:${E2E_PORT}`;
export const E2E_SIMULATOR_PORT = 4110 + offset;
export const E2E_OUTPUT_DIR = offset ? `test-results-${offset}` : "test-results";
export const STACK_LOG = `${E2E_OUTPUT_DIR}/e2e-stack.log`;

/** Passed to startStack; each value overrides the shell's, so a developer's own settings cannot leak in. */
export const E2E_ENV = {
  PORT: String(E2E_PORT),
  SIMULATOR_PORT: String(E2E_SIMULATOR_PORT),
  EMBEDDED_PG_PORT: String(54349 + offset),
  EMBEDDED_PG_DIR: `data/e2e-postgres${offset ? `-${offset}` : ""}`,
  SIMULATOR_LATENCY_MS: "50",
  // The browser tests are about pages, not the rate limit (the integration suite covers that): never wait for it.
  VT_REQUESTS_PER_MINUTE: "10000",
  // Every page's upload comes from this one address: the suite is one client, far past a team member's limits
  // (tests/integration/client-limits.test.ts covers them).
  CLIENT_JOBS_PER_HOUR: "0",
  CLIENT_HASHES_PER_DAY: "0",
  // Empty means unset: lookups go to the bundled simulator even when the shell holds a real key.
  VT_API_KEY: "",
  SIMULATOR_URL: "",
  // Links the API hands out must point at this stack, not at a configured public address.
  PUBLIC_URL: "",
};
