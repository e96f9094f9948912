// The server's secret, which signs manage tokens: APP_SECRET, or else one generated on first use and kept in
// data/app-secret, so that a single-machine install (npm start) needs no setting and keeps its tokens valid
// across restarts. Several hosts must share one: set APP_SECRET (compose requires it).
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { env } from "@/lib/env";

const SECRET_FILE = "data/app-secret";
let cached: string | undefined;

export function appSecret(): string {
  cached ??= env().appSecret ?? readOrCreateSecretFile(path.resolve(SECRET_FILE));
  return cached;
}

function readOrCreateSecretFile(file: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // Written whole under another name, then linked into place: link fails if the file exists, so whichever process
  // comes first makes it, and nobody ever reads a half-written one.
  const draft = `${file}.${process.pid}.${randomBytes(4).toString("hex")}`;
  fs.writeFileSync(draft, `${randomBytes(32).toString("hex")}\n`, { mode: 0o600 });
  try {
    fs.linkSync(draft, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    fs.rmSync(draft, { force: true });
  }
  const secret = fs.readFileSync(file, "utf8").trim();
  if (secret.length < 32) throw new Error(`${file} holds no usable secret: delete it to have a new one made, or set APP_SECRET`);
  return secret;
}
