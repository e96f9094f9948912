CREATE TABLE "jobs" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"total" integer NOT NULL,
	"duplicates" integer NOT NULL,
	"invalid_lines" jsonb NOT NULL,
	"invalid_count" integer NOT NULL,
	"cancelled_at" timestamp with time zone,
	"last_priority" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tasks" (
	"job_id" text NOT NULL,
	"position" integer NOT NULL,
	"line" integer NOT NULL,
	"hash" text NOT NULL,
	"hash_type" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"error" text,
	"retry_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"report_sha256" text,
	CONSTRAINT "tasks_job_id_position_pk" PRIMARY KEY("job_id","position"),
	CONSTRAINT "tasks_status_check" CHECK (status in ('pending', 'completed', 'not_found', 'failed', 'cancelled')),
	CONSTRAINT "tasks_hash_type_check" CHECK (hash_type in ('md5', 'sha1', 'sha256'))
);
--> statement-breakpoint
CREATE TABLE "not_found_hashes" (
	"hash" text PRIMARY KEY NOT NULL,
	"source" text NOT NULL,
	"checked_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "not_found_hashes_source_check" CHECK (source in ('virustotal', 'simulator'))
);
--> statement-breakpoint
CREATE TABLE "reports" (
	"sha256" text PRIMARY KEY NOT NULL,
	"md5" text NOT NULL,
	"sha1" text NOT NULL,
	"source" text NOT NULL,
	"fetched_at" timestamp with time zone DEFAULT now() NOT NULL,
	"fortinet" text,
	"fortinet_category" text,
	"detected" integer NOT NULL,
	"engines" integer NOT NULL,
	"scan_date" timestamp with time zone,
	"raw" jsonb NOT NULL,
	CONSTRAINT "reports_source_check" CHECK (source in ('virustotal', 'simulator'))
);
--> statement-breakpoint
CREATE TABLE "lookup_leases" (
	"hash" text PRIMARY KEY NOT NULL,
	"holder" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "vt_pause" (
	"budget" text PRIMARY KEY NOT NULL,
	"until" timestamp with time zone NOT NULL,
	"cause" text NOT NULL,
	"reason" text NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "vt_pause_cause_check" CHECK (cause in ('quota', 'per_minute', 'daily_limit', 'monthly_limit', 'bad_key'))
);
--> statement-breakpoint
CREATE TABLE "vt_requests" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"budget" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "vt_usage" (
	"budget" text NOT NULL,
	"period" text NOT NULL,
	"count" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "vt_usage_budget_period_pk" PRIMARY KEY("budget","period")
);
--> statement-breakpoint
CREATE TABLE "worker_pools" (
	"id" text PRIMARY KEY NOT NULL,
	"hostname" text NOT NULL,
	"pid" integer NOT NULL,
	"concurrency" integer NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_beat_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_report_sha256_reports_sha256_fk" FOREIGN KEY ("report_sha256") REFERENCES "public"."reports"("sha256") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "tasks_pending_hash_idx" ON "tasks" USING btree ("hash") WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX "tasks_job_status_idx" ON "tasks" USING btree ("job_id","status");--> statement-breakpoint
CREATE INDEX "reports_md5_idx" ON "reports" USING btree ("md5");--> statement-breakpoint
CREATE INDEX "reports_sha1_idx" ON "reports" USING btree ("sha1");--> statement-breakpoint
CREATE INDEX "vt_requests_budget_at_idx" ON "vt_requests" USING btree ("budget","at");