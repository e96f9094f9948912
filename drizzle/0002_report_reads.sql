CREATE TABLE "job_count_deltas" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "job_count_deltas_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"job_id" text NOT NULL,
	"pending" integer DEFAULT 0 NOT NULL,
	"completed" integer DEFAULT 0 NOT NULL,
	"not_found" integer DEFAULT 0 NOT NULL,
	"failed" integer DEFAULT 0 NOT NULL,
	"cancelled" integer DEFAULT 0 NOT NULL,
	"changes" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "job_counts" (
	"job_id" text PRIMARY KEY NOT NULL,
	"pending" integer DEFAULT 0 NOT NULL,
	"completed" integer DEFAULT 0 NOT NULL,
	"not_found" integer DEFAULT 0 NOT NULL,
	"failed" integer DEFAULT 0 NOT NULL,
	"cancelled" integer DEFAULT 0 NOT NULL,
	"changes" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
DROP INDEX "tasks_job_status_idx";--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "changed_xid" "xid8" DEFAULT pg_current_xact_id() NOT NULL;--> statement-breakpoint
ALTER TABLE "job_count_deltas" ADD CONSTRAINT "job_count_deltas_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "job_counts" ADD CONSTRAINT "job_counts_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "job_count_deltas_job_idx" ON "job_count_deltas" USING btree ("job_id");--> statement-breakpoint
CREATE INDEX "tasks_job_status_position_idx" ON "tasks" USING btree ("job_id","status","position");--> statement-breakpoint
CREATE INDEX "tasks_fortinet_detected_idx" ON "tasks" USING btree ("job_id","position") WHERE fortinet is not null;--> statement-breakpoint
CREATE INDEX "tasks_any_detected_idx" ON "tasks" USING btree ("job_id","position") WHERE detected > 0;--> statement-breakpoint
CREATE INDEX "tasks_detections_idx" ON "tasks" USING btree ("job_id",coalesce("detected", -1),"position");--> statement-breakpoint
CREATE INDEX "tasks_scan_date_idx" ON "tasks" USING btree ("job_id",coalesce("scan_date", '-infinity'::timestamptz),"position");--> statement-breakpoint
CREATE INDEX "tasks_hash_prefix_idx" ON "tasks" USING btree ("job_id","hash" collate "C");--> statement-breakpoint
CREATE INDEX "tasks_changes_idx" ON "tasks" USING btree ("job_id","changed_xid","position");--> statement-breakpoint
-- Written by hand from here: the triggers that keep job counts as tasks change, and their starting values.
-- One delta row per job and statement, appended (never updated): lookups settling at once in jobs that share
-- files never wait on, nor deadlock over, a job's counter. The worker folds deltas into job_counts. Tasks are only
-- deleted with their job, whose counts go with it: no delete trigger.
CREATE FUNCTION "tasks_count_inserted"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO "job_count_deltas" ("job_id", "pending", "completed", "not_found", "failed", "cancelled", "changes")
	SELECT "job_id",
		count(*) FILTER (WHERE "status" = 'pending'), count(*) FILTER (WHERE "status" = 'completed'),
		count(*) FILTER (WHERE "status" = 'not_found'), count(*) FILTER (WHERE "status" = 'failed'),
		count(*) FILTER (WHERE "status" = 'cancelled'), count(*)
	FROM "new_rows" GROUP BY "job_id";
	RETURN NULL;
END $$;--> statement-breakpoint
CREATE FUNCTION "tasks_count_updated"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO "job_count_deltas" ("job_id", "pending", "completed", "not_found", "failed", "cancelled", "changes")
	SELECT "job_id", sum("pending"), sum("completed"), sum("not_found"), sum("failed"), sum("cancelled"), sum("changes")
	FROM (
		SELECT "job_id", ("status" = 'pending')::int AS "pending", ("status" = 'completed')::int AS "completed",
			("status" = 'not_found')::int AS "not_found", ("status" = 'failed')::int AS "failed",
			("status" = 'cancelled')::int AS "cancelled", 1 AS "changes"
		FROM "new_rows"
		UNION ALL
		SELECT "job_id", -("status" = 'pending')::int, -("status" = 'completed')::int, -("status" = 'not_found')::int,
			-("status" = 'failed')::int, -("status" = 'cancelled')::int, 0
		FROM "old_rows"
	) "d"
	GROUP BY "job_id";
	RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER "tasks_count_insert" AFTER INSERT ON "tasks" REFERENCING NEW TABLE AS "new_rows"
	FOR EACH STATEMENT EXECUTE FUNCTION "tasks_count_inserted"();--> statement-breakpoint
CREATE TRIGGER "tasks_count_update" AFTER UPDATE ON "tasks" REFERENCING OLD TABLE AS "old_rows" NEW TABLE AS "new_rows"
	FOR EACH STATEMENT EXECUTE FUNCTION "tasks_count_updated"();--> statement-breakpoint
INSERT INTO "job_counts" ("job_id", "pending", "completed", "not_found", "failed", "cancelled", "changes")
SELECT "j"."id",
	count("t"."position") FILTER (WHERE "t"."status" = 'pending'), count("t"."position") FILTER (WHERE "t"."status" = 'completed'),
	count("t"."position") FILTER (WHERE "t"."status" = 'not_found'), count("t"."position") FILTER (WHERE "t"."status" = 'failed'),
	count("t"."position") FILTER (WHERE "t"."status" = 'cancelled'), count("t"."position")
FROM "jobs" "j" LEFT JOIN "tasks" "t" ON "t"."job_id" = "j"."id"
GROUP BY "j"."id";
