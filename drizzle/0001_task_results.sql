CREATE TABLE "vt_wake_cursor" (
	"budget" text PRIMARY KEY NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "tasks" DROP CONSTRAINT "tasks_report_sha256_reports_sha256_fk";--> statement-breakpoint
ALTER TABLE "not_found_hashes" DROP CONSTRAINT "not_found_hashes_pkey";--> statement-breakpoint
ALTER TABLE "not_found_hashes" ADD CONSTRAINT "not_found_hashes_hash_source_pk" PRIMARY KEY("hash","source");--> statement-breakpoint
ALTER TABLE "reports" DROP CONSTRAINT "reports_pkey";--> statement-breakpoint
ALTER TABLE "reports" ADD CONSTRAINT "reports_sha256_source_pk" PRIMARY KEY("sha256","source");--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "sha256" text;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "md5" text;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "sha1" text;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "source" text;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "fortinet" text;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "fortinet_category" text;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "detected" integer;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "engines" integer;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "scan_date" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "meaningful_name" text;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "file_type" text;--> statement-breakpoint
ALTER TABLE "reports" ADD COLUMN "meaningful_name" text;--> statement-breakpoint
ALTER TABLE "reports" ADD COLUMN "file_type" text;--> statement-breakpoint
-- Written by hand (and the two DROP CONSTRAINT … pkey above): reports name their file and type, as new ones do,
-- and finished tasks keep the result they were shown, copied from the report they pointed at.
UPDATE "reports" SET
	"meaningful_name" = left("raw"->'data'->'attributes'->>'meaningful_name', 1000),
	"file_type" = left("raw"->'data'->'attributes'->>'type_description', 1000);--> statement-breakpoint
UPDATE "tasks" t SET
	"sha256" = r."sha256", "md5" = r."md5", "sha1" = r."sha1", "source" = r."source",
	"fortinet" = r."fortinet", "fortinet_category" = r."fortinet_category", "detected" = r."detected",
	"engines" = r."engines", "scan_date" = r."scan_date",
	"meaningful_name" = r."meaningful_name", "file_type" = r."file_type"
FROM "reports" r WHERE r."sha256" = t."report_sha256";--> statement-breakpoint
ALTER TABLE "tasks" DROP COLUMN "report_sha256";--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_source_check" CHECK (source in ('virustotal', 'simulator'));
