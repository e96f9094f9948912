// The client's quota read, against the simulator's overall_quotas over real HTTP.
import { afterAll, beforeAll, expect, it } from "vitest";
import { createVirusTotalClient } from "./client";
import { BadKeyError } from "./errors";
import { createSimulator, type Simulator } from "./simulator/server";

let simulator: Simulator;
let apiUrl: string;
beforeAll(async () => {
  simulator = createSimulator({ latencyMs: 0, requestsPerMinute: 4, requestsPerDay: 2 });
  apiUrl = `http://127.0.0.1:${await simulator.listen(0)}/api/v3`;
});
afterAll(() => simulator.close());

it("reads the key's hourly, daily and monthly use, without spending a lookup", async () => {
  const client = createVirusTotalClient({ apiUrl, apiKey: "k", timeoutMs: 2000 });
  await client.getFile("b214da9f6b0d6e6de5090b3f9672defe");
  await client.getFile("b214da9f6b0d6e6de5090b3f9672defe");
  expect(await client.getQuotas()).toEqual({
    hourly: { used: 2, allowed: 240 },
    daily: { used: 2, allowed: 2 },
    monthly: { used: 2, allowed: 62 },
  });
  expect(simulator.requests().filter((r) => r.hash !== null)).toHaveLength(2);
});

it("classifies a rejected key on the quota endpoint too", async () => {
  const client = createVirusTotalClient({ apiUrl, apiKey: "wrong-key", timeoutMs: 2000 });
  await expect(client.getQuotas()).rejects.toBeInstanceOf(BadKeyError);
});
