import { simulatedOutcome } from "../../../lib/virustotal/simulator/reports";

/** `n` distinct MD5-shaped hashes with a prefix, each one the simulator will find. */
export function foundHashes(prefix: string, n: number): string[] {
  const hashes: string[] = [];
  for (let i = 0; hashes.length < n; i++) {
    const hash = prefix + i.toString(16).padStart(32 - prefix.length, "0");
    if (simulatedOutcome(hash).kind === "found") hashes.push(hash);
  }
  return hashes;
}
