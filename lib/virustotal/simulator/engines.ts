// The antivirus engines and file types synthetic reports are built from, taken from the real reports in tests/fixtures/vt.

/** A deterministic source of numbers in [0, 1), seeded from a report's hash. */
export type Random = () => number;

export const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

export interface Engine {
  name: string;
  /** `"None"` is what VirusTotal really sends for Kingsoft and Fortinet; a function for versions that embed the date. */
  version: string | ((analysedAt: Date) => string);
  /** How many days before the analysis the engine's signatures were last updated (stale engines lag for months). */
  lagDays: number;
}

const ymd = (d: Date) => d.toISOString().slice(0, 10);

/** The 76 engines of the most recent fixture (417c0670…, December 2023), in VirusTotal's order. */
export const ENGINES: readonly Engine[] = (
  [
    ["Bkav", "2.0.0.1", 0], ["Lionic", "7.5", 0], ["tehtris", "v0.1.4-109-g76614fd", 0], ["DrWeb", "7.0.61.8090", 0],
    ["MicroWorld-eScan", "14.0.409.0", 0], ["CMC", "2.4.2022.1", 118], ["CAT-QuickHeal", "22.00", 1],
    ["Skyhigh", "v2021.2.0+4045", 0], ["ALYac", "1.1.3.1", 0], ["Cylance", "2.0.0.0", 40], ["Zillya", "2.0.0.5015", 3],
    ["Sangfor", "2.23.0.0", 6], ["K7AntiVirus", "12.131.50455", 0], ["Alibaba", "0.3.0.5", 1666],
    ["K7GW", "12.131.50456", 0], ["Cybereason", "1.2.449", 46], ["BitDefenderTheta", "7.2.37796.0", 21],
    ["VirIT", "9.5.601", 0], ["SymantecMobileInsight", "2.0", 333], ["Symantec", "1.21.0.0", 0],
    ["Elastic", "4.0.121", 10], ["ESET-NOD32", "28421", 0], ["Cynet", "4.0.0.28", 0], ["APEX", "6.479", 5],
    ["Paloalto", "0.9.0.1003", 0], ["ClamAV", "1.2.1.0", 0], ["Kaspersky", "22.0.1.28", 0], ["BitDefender", "7.2", 0],
    ["NANO-Antivirus", "1.0.146.25796", 0], ["SUPERAntiSpyware", "5.6.0.1032", 1], ["Avast", "23.9.8494.0", 0],
    ["Rising", "25.0.0.27", 0], ["Trustlook", "1.0", 0], ["TACHYON", (d: Date) => `${ymd(d)}.02`, 0],
    ["Emsisoft", "2022.6.0.32461", 0], ["F-Secure", "18.10.1547.307", 0], ["Baidu", "1.0.0.2", 1736],
    ["VIPRE", "6.0.0.35", 0], ["TrendMicro", "11.0.0.1006", 0], ["Trapmine", "4.0.14.97", 42],
    ["FireEye", "35.24.1.0", 0], ["Sophos", "2.4.3.0", 0], ["Ikarus", "6.2.4.0", 0], ["GData", "A:25.37002B:27.34243", 0],
    ["Jiangmin", "16.0.100", 1], ["Webroot", "1.0.0.403", 0], ["Varist", "6.5.1.2", 0], ["Avira", "8.3.3.16", 0],
    ["Antiy-AVL", "3.0", 0], ["Kingsoft", "None", 103], ["Gridinsoft", "1.0.151.174", 0], ["Xcitium", "36271", 0],
    ["Arcabit", "2022.0.0.18", 0], ["ViRobot", "2014.3.20.0", 0], ["ZoneAlarm", "1.0", 0],
    ["Avast-Mobile", (d: Date) => `${ymd(d).slice(2).replaceAll("-", "")}-02`, 0], ["Microsoft", "1.1.23110.2", 0],
    ["Google", (d: Date) => String(Math.floor(d.getTime() / 1000) - 600), 0], ["BitDefenderFalx", "2.0.936", 27],
    ["AhnLab-V3", "3.25.0.10459", 0], ["Acronis", "1.2.0.121", 112], ["McAfee", "6.0.6.653", 0],
    ["MAX", "2023.1.4.1", 0], ["VBA32", "5.0.0", 0], ["Malwarebytes", "4.5.5.54", 0], ["Panda", "4.6.4.2", 0],
    ["Zoner", "2.2.2.0", 0], ["TrendMicro-HouseCall", "10.0.0.1040", 0], ["Tencent", "1.0.0.1", 0],
    ["Yandex", "5.5.2.24", 0], ["SentinelOne", "23.4.2.3", 29], ["MaxSecure", "1.0.0.1", 0], ["Fortinet", "None", 0],
    ["AVG", "23.9.8494.0", 0], ["DeepInstinct", "3.1.0.15", 1], ["CrowdStrike", "1.0", 53],
  ] as const
).map(([name, version, lagDays]) => ({ name, version, lagDays }));

/** Engines that only scan Android packages; everything else is `type-unsupported` for them. */
const MOBILE_ONLY = new Set(["SymantecMobileInsight", "Trustlook", "Avast-Mobile", "BitDefenderFalx"]);
/** Engines that only scan Windows executables, as the fixtures for Word, RTF, Mach-O and ELF files show. */
const PE_ONLY = new Set([
  "Alibaba", "Paloalto", "APEX", "Trapmine", "Webroot", "Cylance", "Cybereason", "CrowdStrike", "DeepInstinct", "tehtris",
]);

export type FileKind = "pe" | "msil" | "doc" | "rtf" | "pdf" | "elf" | "android" | "js";

export interface FileType {
  kind: FileKind;
  description: string;
  tag: string;
  tags: string[];
  extension: string | null;
  magic: string;
  size: [min: number, max: number];
  /** The platform part of most engines' detection names, and of Fortinet's (`W32/…!tr`). */
  platform: string;
  fortinetPlatform: string;
  families: string[];
  names: string[];
}

const PE_MAGIC = "PE32 executable (GUI) Intel 80386, for MS Windows";

export const FILE_TYPES: readonly FileType[] = [
  { kind: "pe", description: "Win32 EXE", tag: "peexe", tags: ["executable", "windows", "win32", "pe", "peexe"],
    extension: "exe", magic: PE_MAGIC, size: [24_576, 2_400_000], platform: "Win32", fortinetPlatform: "W32",
    families: ["Kryptik", "Injoker", "Carbanak", "Agent", "Emotet", "Qakbot", "Zbot", "Ursnif", "Dridex", "Tiny"],
    names: ["setup.exe", "invoice_0423.exe", "update.exe", "payload.exe", "svchost.exe", "installer.exe", "crack.exe"] },
  { kind: "pe", description: "Win32 DLL", tag: "pedll", tags: ["executable", "windows", "win32", "pe", "pedll"],
    extension: "dll", magic: "PE32 executable (DLL) (GUI) Intel 80386, for MS Windows", size: [16_384, 900_000],
    platform: "Win32", fortinetPlatform: "W32", families: ["Kryptik", "Agent", "Qakbot", "IcedID", "Bumblebee"],
    names: ["version.dll", "msvcp140.dll", "loader.dll", "x86.dll"] },
  { kind: "msil", description: "Win32 EXE", tag: "peexe", tags: ["executable", "windows", "win32", "pe", "peexe", "assembly"],
    extension: "exe", magic: "PE32 executable (GUI) Intel 80386 Mono/.Net assembly, for MS Windows", size: [3_072, 1_200_000],
    platform: "MSIL", fortinetPlatform: "MSIL", families: ["GenKryptik", "AgentTesla", "Formbook", "RedLine", "Nanocore", "AsyncRAT"],
    names: ["source.exe", "PO_98231.exe", "Client.exe", "Stub.exe"] },
  { kind: "doc", description: "MS Word Document", tag: "doc", tags: ["document", "msoffice", "text", "word", "doc"],
    extension: "doc", magic: "Composite Document File V2 Document, Little Endian, Os: Windows, Code page: 1252",
    size: [20_000, 400_000], platform: "W97M", fortinetPlatform: "WM", families: ["Moat", "Hill", "Emotet", "Donoff", "Valyria"],
    names: ["invoice.doc", "Scan_0023.doc", "contract.doc", "cDCUTY.tmp"] },
  { kind: "rtf", description: "Rich Text Format", tag: "rtf", tags: ["document", "text", "rtf"], extension: "rtf",
    magic: "Rich Text Format data, unknown version", size: [8_000, 600_000], platform: "RTF", fortinetPlatform: "MSOffice",
    families: ["CVE_2017_11882", "CVE_2018_0802", "Obfuscated"], names: ["test.rtf", "order.rtf", "quotation.rtf"] },
  { kind: "pdf", description: "PDF", tag: "pdf", tags: ["document", "pdf"], extension: "pdf",
    magic: "PDF document, version 1.7", size: [12_000, 3_000_000], platform: "PDF", fortinetPlatform: "PDF",
    families: ["Phishing", "Pidief", "Agent"], names: ["statement.pdf", "document.pdf", "shipping_label.pdf"] },
  { kind: "elf", description: "ELF", tag: "elf", tags: ["executable", "linux", "elf"], extension: null,
    magic: "ELF 32-bit LSB executable, Intel 80386, version 1 (SYSV), statically linked, stripped", size: [4_096, 1_500_000],
    platform: "Linux", fortinetPlatform: "ELF", families: ["Mirai", "Gafgyt", "Tsunami", "XorDDoS"],
    names: ["x86", "bins.sh.x86", "elf_haiku_x86", "kworker"] },
  { kind: "android", description: "Android", tag: "android", tags: ["executable", "mobile", "android", "apk"],
    extension: "apk", magic: "Zip archive data, at least v2.0 to extract", size: [200_000, 30_000_000],
    platform: "AndroidOS", fortinetPlatform: "Android", families: ["Joker", "Hiddad", "Triada", "Agent"],
    names: ["base.apk", "update.apk", "com.flash.player.apk"] },
  { kind: "js", description: "JavaScript", tag: "javascript", tags: ["text", "javascript"], extension: "js",
    magic: "ASCII text, with very long lines", size: [1_000, 250_000], platform: "JS", fortinetPlatform: "JS",
    families: ["Nemucod", "Agent", "Obfuse"], names: ["invoice.js", "payment.js", "readme.js"] },
];

/** Whether an engine scans this kind of file at all; if not, its verdict is `type-unsupported`. */
export function supports(engine: string, kind: FileKind): boolean {
  if (MOBILE_ONLY.has(engine)) return kind === "android";
  if (PE_ONLY.has(engine)) return kind === "pe" || kind === "msil";
  return true;
}

const letters = (random: Random, n: number) =>
  Array.from({ length: n }, () => String.fromCharCode(65 + Math.floor(random() * 26))).join("");
const hex = (random: Random, n: number) =>
  Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join("").toUpperCase();
const num = (random: Random, min: number, max: number) => min + Math.floor(random() * (max - min + 1));

/** Fortinet's naming, e.g. `W32/Kryptik.EIWS!tr`, `MSIL/GenKryptik.FJZT!tr`, `WM/Moat.81C2F10E!tr`. */
export function fortinetName(type: FileType, family: string, random: Random): string {
  const variant = type.kind === "doc" ? hex(random, 8) : letters(random, num(random, 1, 4));
  return `${type.fortinetPlatform}/${family}.${variant}!${type.kind === "rtf" ? "exploit" : "tr"}`;
}

/** A detection name in the style the engine really uses; the file's family keeps the names of one report related. */
export function detectionName(engine: string, type: FileType, family: string, md5: string, random: Random): string {
  const p = type.platform;
  const fromMd5 = (parseInt(md5.slice(0, 6), 16) % 90_000) + 1_000;
  switch (engine) {
    case "Fortinet": return fortinetName(type, family, random);
    // BitDefender's engine is licensed by several vendors, so they report the very same name.
    case "BitDefender": case "MicroWorld-eScan": case "ALYac": case "GData": case "FireEye": case "VIPRE":
      return `Gen:Variant.${family}.${fromMd5}`;
    case "Emsisoft": return `Gen:Variant.${family}.${fromMd5} (B)`;
    case "Arcabit": return `Trojan.${family}.D${hex(random, 5)}`;
    case "Kaspersky": case "ZoneAlarm": return `HEUR:Trojan.${p}.${family}.gen`;
    case "Microsoft": return `Trojan:${p}/${family}!ml`;
    case "ESET-NOD32": return `a variant of ${p}/${family}.${letters(random, 3)}`;
    case "Avast": case "AVG": return `${p}:${family}-${letters(random, 2)} [Trj]`;
    case "McAfee": case "Skyhigh": return `GenericRXAA-FA!${md5.slice(0, 12).toUpperCase()}`;
    case "Sophos": return `Troj/${family}-${letters(random, 2)}`;
    case "Symantec": return pick(random, ["Trojan.Gen.MBT", "ML.Attribute.HighConfidence", "Trojan.Gen.2"]);
    case "TrendMicro": case "TrendMicro-HouseCall": return `TROJ_GEN.R002C0D${letters(random, 2)}23`;
    case "Ikarus": return `Trojan.${p}.${family}`;
    case "DrWeb": return `Trojan.${family}.${num(random, 10, 9999)}`;
    case "K7AntiVirus": case "K7GW": return `Trojan ( 00${md5.slice(8, 15)} )`;
    case "CrowdStrike": return `win/malicious_confidence_${num(random, 60, 100)}% (W)`;
    case "Cynet": return `Malicious (score: ${num(random, 70, 100)})`;
    case "MAX": return `malware (ai score=${num(random, 80, 100)})`;
    case "Google": return "Detected";
    case "SentinelOne": return type.kind === "pe" || type.kind === "msil" ? "Static AI - Malicious PE" : "Static AI - Suspicious File";
    case "Elastic": return "malicious (high confidence)";
    case "Cylance": return "unsafe";
    case "DeepInstinct": return "MALICIOUS";
    case "Trapmine": return "suspicious.low.ml.score";
    case "Bkav": return "W32.AIDetectMalware";
    case "MaxSecure": return `Trojan.Malware.${num(random, 100000, 999999)}.susgen`;
    case "AhnLab-V3": return `Trojan/${p}.${family}.C${num(random, 1000000, 9999999)}`;
    case "Rising": return `Trojan.${family}!8.${hex(random, 3)} (CLOUD)`;
    case "Tencent": return `${p}.Trojan.${family}.${letters(random, 4)}`;
    default: return pick(random, [`Trojan.${family}`, `Trojan/${p}.${family}`, `Malware.${family}/${p}`, `Trojan.Generic`]);
  }
}
