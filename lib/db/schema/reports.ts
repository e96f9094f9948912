import { sql } from "drizzle-orm";
import { check, index, integer, jsonb, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";
import type { VirusTotalSource } from "@/lib/env";

// One row per file and source, whichever of its names was asked: a later ask by MD5, SHA-1 or SHA-256 finds it.
// Per source, so that a simulated report never replaces VirusTotal's own answer for the same file.
export const reports = pgTable(
  "reports",
  {
    sha256: text().notNull(),
    md5: text().notNull(),
    sha1: text().notNull(),
    source: text().$type<VirusTotalSource>().notNull(),
    fetchedAt: timestamp("fetched_at", { withTimezone: true }).notNull().defaultNow(),
    fortinet: text(),
    fortinetCategory: text("fortinet_category"),
    detected: integer().notNull(),
    engines: integer().notNull(),
    scanDate: timestamp("scan_date", { withTimezone: true }),
    meaningfulName: text("meaningful_name"),
    fileType: text("file_type"),
    // The whole VirusTotal answer, so that a later feature never has to spend a request again.
    raw: jsonb().notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.sha256, t.source] }),
    index("reports_md5_idx").on(t.md5),
    index("reports_sha1_idx").on(t.sha1),
    // Retention walks the old ones in this order.
    index("reports_fetched_at_idx").on(t.fetchedAt, t.sha256, t.source),
    check("reports_source_check", sql`source in ('virustotal', 'simulator')`),
  ],
);

// VirusTotal's "not found" answers, keyed by the name asked (the other names are unknown) and source, kept for an hour.
export const notFoundHashes = pgTable(
  "not_found_hashes",
  {
    hash: text().notNull(),
    source: text().$type<VirusTotalSource>().notNull(),
    checkedAt: timestamp("checked_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.hash, t.source] }),
    index("not_found_hashes_checked_at_idx").on(t.checkedAt),
    check("not_found_hashes_source_check", sql`source in ('virustotal', 'simulator')`),
  ],
);

export type Report = typeof reports.$inferSelect;
