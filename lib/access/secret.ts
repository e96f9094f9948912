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
  try {
    // "wx": whichever process comes first writes it; the others read what it wrote.
    fs.writeFileSync(file, `${randomBytes(32).toString("hex")}\n`, { flag: "wx", mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  const secret = fs.readFileSync(file, "utf8").trim();
  if (secret.length < 32) throw new Error(`${file} holds no usable secret: delete it to have a new one made, or set APP_SECRET`);
  return secret;
}
