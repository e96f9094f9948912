// Pure, deterministic synthetic reports: what the simulator answers for a hash, decided from the hash alone.
import { createHash } from "node:crypto";
import { ENGINES, FILE_TYPES, detectionName, pick, supports, type Random } from "./engines";

const VIRUSTOTAL_API = "https://www.virustotal.com/api/v3";

/** Synthetic analyses fall within the two years before this fixed date, so a report never depends on the clock. */
export const ANALYSIS_EPOCH = Date.UTC(2026, 0, 1) / 1000;
const TWO_YEARS = 2 * 365 * 86_400;

export const CATEGORIES = [
  "harmless", "type-unsupported", "suspicious", "confirmed-timeout", "timeout", "failure", "malicious", "undetected",
] as const;
export type Category = (typeof CATEGORIES)[number];

export interface EngineResult {
  category: Category;
  engine_name: string;
  engine_version: string | null;
  result: string | null;
  method: "blacklist";
  engine_update: string;
}

export interface SimulatedFileReport {
  data: {
    id: string;
    type: "file";
    links: { self: string };
    attributes: {
      md5: string;
      sha1: string;
      sha256: string;
      last_analysis_date: number;
      last_analysis_stats: Record<Category, number>;
      last_analysis_results: Record<string, EngineResult>;
      [attribute: string]: unknown;
    };
  };
}

export interface FileNames { md5: string; sha1: string; sha256: string }

/** How much of the engine set flags a found file; `low` is the grey zone of 1–4 detections. */
export type Profile = "malicious" | "low" | "clean";

export type SimulatedOutcome =
  | { kind: "invalid" }
  | { kind: "not-found" }
  | { kind: "unavailable" }
  | { kind: "malformed" }
  | {
      kind: "found";
      /** How many requests for this hash answer 503 before the report (the `503d…` rule). */
      transientFailures: number;
      profile: Profile;
      malicious: number;
      suspicious: number;
      fortinet: "detected" | "undetected" | "absent";
    };

const HASH = /^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64})$/;

const digest = (algorithm: "md5" | "sha1" | "sha256", text: string) => createHash(algorithm).update(text).digest();

/** About 10% of unknown hashes are not found: the first byte of sha256("sim:" + hash) below 26. */
const isUnknownToSimulator = (hash: string) => digest("sha256", `sim:${hash.toLowerCase()}`)[0]! < 26;

/**
 * What the simulator does with a hash it has not seen as another name of a file, and that is not a fixture
 * (fixtures are always found). Rules in order: invalid → `dead…` → `503d…` → `bad0…` → 10% not found → found.
 */
export function simulatedOutcome(hash: string): SimulatedOutcome {
  const h = hash.toLowerCase();
  if (!HASH.test(h)) return { kind: "invalid" };
  if (h.startsWith("dead")) return { kind: "not-found" };
  const transient = /^503(\d)/.exec(h);
  if (transient?.[1] === "0") return { kind: "unavailable" };
  if (h.startsWith("bad0")) return { kind: "malformed" };
  if (!transient && isUnknownToSimulator(h)) return { kind: "not-found" };

  const { attributes } = simulatedReport(h).data;
  const stats = attributes.last_analysis_stats;
  const fortinet = attributes.last_analysis_results.Fortinet;
  const detections = stats.malicious + stats.suspicious;
  return {
    kind: "found",
    transientFailures: transient ? Number(transient[1]) : 0,
    profile: detections === 0 ? "clean" : detections <= 4 ? "low" : "malicious",
    malicious: stats.malicious,
    suspicious: stats.suspicious,
    fortinet: !fortinet ? "absent" : fortinet.category === "malicious" ? "detected" : "undetected",
  };
}

/** The file's other two names are derived from the name it was first asked by, so they are stable too. */
export function simulatedNames(hash: string): FileNames {
  const h = hash.toLowerCase();
  const seed = `sim:file:${h}`;
  const hexOf = (algorithm: "md5" | "sha1" | "sha256") => digest(algorithm, seed).toString("hex");
  return {
    md5: h.length === 32 ? h : hexOf("md5"),
    sha1: h.length === 40 ? h : hexOf("sha1"),
    sha256: h.length === 64 ? h : hexOf("sha256"),
  };
}

/** mulberry32, seeded from the hash: small, fast, and the same sequence on every machine. */
function randomFor(hash: string): Random {
  let state = digest("sha256", `sim:report:${hash}`).readUInt32BE(0);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const between = (random: Random, min: number, max: number) => min + Math.floor(random() * (max - min + 1));
const ymd = (d: Date) => d.toISOString().slice(0, 10).replaceAll("-", "");

/** The report for the file first asked for by `hash`; the same hash always gives the same report. */
export function simulatedReport(hash: string): SimulatedFileReport {
  const names = simulatedNames(hash);
  const random = randomFor(hash.toLowerCase());
  const roll = random();
  const profile: Profile = roll < 0.35 ? "malicious" : roll < 0.45 ? "low" : "clean";
  const type = pick(random, FILE_TYPES);
  const family = pick(random, type.families);
  const withFortinet = random() >= 0.05;
  const analysedAt = ANALYSIS_EPOCH - 1 - Math.floor(random() * TWO_YEARS);
  const analysisDay = new Date(analysedAt * 1000);

  const engines = ENGINES.filter((e) => e.name !== "Fortinet" || withFortinet);
  const scanning = engines.filter((e) => supports(e.name, type.kind)).map((e) => e.name);
  const detecting = chooseDetecting(random, profile, scanning);

  const results: Record<string, EngineResult> = {};
  for (const engine of engines) {
    const verdict = detecting.get(engine.name);
    const category: Category = !supports(engine.name, type.kind)
      ? "type-unsupported"
      : (verdict ?? (random() < 0.015 ? pick(random, ["failure", "timeout", "failure"] as const) : "undetected"));
    // Up-to-date engines are often a day behind; stale ones keep the lag the fixtures show.
    const lagDays = engine.lagDays || (random() < 0.3 ? 1 : 0);
    results[engine.name] = {
      category,
      engine_name: engine.name,
      engine_version: typeof engine.version === "function" ? engine.version(analysisDay) : engine.version,
      result: verdict === "malicious" ? detectionName(engine.name, type, family, names.md5, random)
        : verdict === "suspicious" ? "Suspicious" : null,
      method: "blacklist",
      engine_update: ymd(new Date((analysedAt - lagDays * 86_400) * 1000)),
    };
  }

  const stats = Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Record<Category, number>;
  for (const r of Object.values(results)) stats[r.category] += 1;

  const firstSubmitted = analysedAt - between(random, 0, 3 * 365) * 86_400;
  const meaningfulName = pick(random, type.names);
  return {
    data: {
      id: names.sha256,
      type: "file",
      links: { self: `${VIRUSTOTAL_API}/files/${names.sha256}` },
      attributes: {
        type_description: type.description,
        type_tag: type.tag,
        type_tags: type.tags,
        ...(type.extension ? { type_extension: type.extension } : {}),
        magic: type.magic,
        size: between(random, ...type.size),
        names: [meaningfulName, `VirusShare_${names.md5}`, `${names.sha256}.bin`].slice(0, between(random, 1, 3)),
        meaningful_name: meaningfulName,
        md5: names.md5,
        sha1: names.sha1,
        sha256: names.sha256,
        first_submission_date: firstSubmitted,
        last_submission_date: between(random, firstSubmitted, analysedAt),
        last_analysis_date: analysedAt,
        last_modification_date: Math.min(analysedAt + between(random, 0, 30) * 86_400, ANALYSIS_EPOCH),
        times_submitted: between(random, 1, profile === "clean" ? 5 : 60),
        unique_sources: between(random, 1, 20),
        reputation: profile === "malicious" ? -between(random, 1, 80) : 0,
        total_votes: { harmless: 0, malicious: profile === "malicious" ? between(random, 0, 5) : 0 },
        tags: type.tags.slice(-2),
        last_analysis_stats: stats,
        last_analysis_results: results,
      },
    },
  };
}

/** Which engines flag the file and how; Fortinet follows the crowd on malicious files and rarely otherwise. */
function chooseDetecting(random: Random, profile: Profile, scanning: string[]): Map<string, "malicious" | "suspicious"> {
  const detecting = new Map<string, "malicious" | "suspicious">();
  if (profile === "clean") return detecting;
  if (profile === "malicious") {
    const rate = 0.35 + random() * 0.55;
    for (const name of scanning) {
      if (name === "Fortinet" ? random() < 0.85 : random() < rate) detecting.set(name, "malicious");
    }
    // A malicious profile always clears the grey zone, whatever the dice said.
    for (const name of scanning) if (detecting.size < 5) detecting.set(name, "malicious");
    return detecting;
  }
  const count = between(random, 1, 4);
  // Fortinet's verdict is all or nothing: a name and `malicious`, or `undetected`.
  if (scanning.includes("Fortinet") && random() < 0.25) detecting.set("Fortinet", "malicious");
  const others = scanning.filter((name) => name !== "Fortinet");
  while (detecting.size < count) detecting.set(pick(random, others), random() < 0.2 ? "suspicious" : "malicious");
  return detecting;
}
