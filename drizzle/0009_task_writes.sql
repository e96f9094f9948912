ALTER TABLE "tasks" DROP CONSTRAINT "tasks_result_only_when_completed_check";--> statement-breakpoint
ALTER TABLE "tasks" DROP CONSTRAINT "tasks_job_id_jobs_id_fk";
--> statement-breakpoint
DROP INDEX "tasks_detections_idx";--> statement-breakpoint
DROP INDEX "tasks_scan_date_idx";--> statement-breakpoint
CREATE INDEX "tasks_detections_idx" ON "tasks" USING btree ("job_id",coalesce("detected", -1),"position") WHERE status = 'completed';--> statement-breakpoint
CREATE INDEX "tasks_scan_date_idx" ON "tasks" USING btree ("job_id",coalesce("scan_date", '-infinity'::timestamptz),"position") WHERE status = 'completed';--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_result_only_when_completed_check" CHECK (case when status = 'completed' then detected is not null else detected is null and scan_date is null and fortinet is null end);--> statement-breakpoint
-- Written by hand from here: the foreign key from tasks to jobs, as triggers. The key's check ran once per row (a
-- query locking the job, for each of a job's 100,000 tasks: half of writing them); this one runs once per statement.
-- Every job the new tasks name must exist, and stays locked FOR KEY SHARE until commit, as the key locked it: a delete
-- of it waits, then deletes the tasks too. Deleting a job deletes its tasks, as the key's cascade did; neither id
-- ever changes.
CREATE FUNCTION "tasks_check_jobs"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	"missing" text;
BEGIN
	PERFORM 1 FROM "jobs" WHERE "id" IN (SELECT DISTINCT "job_id" FROM "new_rows") FOR KEY SHARE;
	SELECT "n"."job_id" INTO "missing" FROM (SELECT DISTINCT "job_id" FROM "new_rows") "n"
	WHERE NOT EXISTS (SELECT 1 FROM "jobs" "j" WHERE "j"."id" = "n"."job_id")
	LIMIT 1;
	IF "missing" IS NOT NULL THEN
		RAISE EXCEPTION 'insert on table "tasks": no job %', "missing" USING ERRCODE = 'foreign_key_violation';
	END IF;
	RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER "tasks_check_jobs" AFTER INSERT ON "tasks" REFERENCING NEW TABLE AS "new_rows"
	FOR EACH STATEMENT EXECUTE FUNCTION "tasks_check_jobs"();--> statement-breakpoint
CREATE FUNCTION "jobs_delete_tasks"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM "tasks" WHERE "job_id" = OLD."id";
	RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER "jobs_delete_tasks" AFTER DELETE ON "jobs" FOR EACH ROW EXECUTE FUNCTION "jobs_delete_tasks"();--> statement-breakpoint
CREATE FUNCTION "refuse_job_id_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'update of table "%": a job''s id never changes', TG_TABLE_NAME USING ERRCODE = 'foreign_key_violation';
END $$;--> statement-breakpoint
CREATE TRIGGER "tasks_job_id_fixed" BEFORE UPDATE OF "job_id" ON "tasks" FOR EACH ROW
	WHEN (OLD."job_id" IS DISTINCT FROM NEW."job_id") EXECUTE FUNCTION "refuse_job_id_change"();--> statement-breakpoint
CREATE TRIGGER "jobs_id_fixed" BEFORE UPDATE OF "id" ON "jobs" FOR EACH ROW
	WHEN (OLD."id" IS DISTINCT FROM NEW."id") EXECUTE FUNCTION "refuse_job_id_change"();
