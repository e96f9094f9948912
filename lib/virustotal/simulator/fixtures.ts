// The real VirusTotal reports in tests/fixtures/vt, served byte for byte under each of their three names.
import { readdirSync, readFileSync } from "node:fs";

const FIXTURES = new URL("../../../tests/fixtures/vt/", import.meta.url);

/** Maps every md5, sha1 and sha256 (lower case) of a fixture file to the exact JSON VirusTotal sent for it. */
export function loadFixtureReports(dir: URL = FIXTURES): Map<string, string> {
  const reports = new Map<string, string>();
  for (const file of readdirSync(dir)) {
    // Reports are named by SHA-256; the error bodies beside them (not_found.json, wrong_key.json) are not reports.
    if (!/^[0-9a-f]{64}\.json$/.test(file)) continue;
    const body = readFileSync(new URL(file, dir), "utf8");
    const { md5, sha1, sha256 } = (JSON.parse(body) as { data: { attributes: Record<string, string> } }).data.attributes;
    for (const name of [md5, sha1, sha256]) if (name) reports.set(name.toLowerCase(), body);
  }
  return reports;
}
