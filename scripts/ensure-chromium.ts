// Before any test runs: the browser suite needs Debian's Chromium (Playwright never downloads one). Missing, it is
// installed as .ci/run does (apt-get; through sudo when not root and sudo needs no password); where that cannot
// be done, stop now, before vitest and the build, with the exact command to run.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const path = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const command = "sudo apt-get install -y chromium";

if (!existsSync(path)) {
  if (process.env.CHROMIUM_PATH) fail(`CHROMIUM_PATH is ${path}, and nothing is there. Point it at Chromium, or unset it and run:\n\n  ${command}`);
  const root = process.getuid?.() === 0;
  const canSudo = root || spawnSync("sudo", ["-n", "true"], { stdio: "ignore" }).status === 0;
  if (!canSudo || spawnSync("which", ["apt-get"], { stdio: "ignore" }).status !== 0) {
    fail(`The browser tests need Debian's Chromium at ${path}. Install it with:\n\n  ${command}\n\nor set CHROMIUM_PATH to a Chromium binary.`);
  }
  console.log(`Chromium is missing: installing Debian's chromium (${root ? "apt-get" : "sudo apt-get"})…`);
  const prefix = root ? [] : ["sudo", "-n"];
  for (const args of [["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]]) {
    const [bin, ...rest] = [...prefix, ...args];
    const result = spawnSync(bin, rest, { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
    if (result.status !== 0) fail(`Installing Chromium failed (${[...prefix, ...args].join(" ")}). Run:\n\n  ${command}`);
  }
  if (!existsSync(path)) fail(`Chromium was installed but is not at ${path}; set CHROMIUM_PATH to it.`);
}

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}
