-- Written by hand. A lookup's final settle as one function (worker/settle.ts), so that it is one round trip and its own
-- transaction, with the store of VirusTotal's answer: before, the store was a statement of its own, and the settle a
-- transaction of statements sent together that cost three round trips (its begin, the statements, its commit). The
-- statements it runs are functions of their own, called by the TypeScript helpers too (the reaper fails tasks, a
-- wait releases its lease, tests store reports): one definition each.
-- It touches graphile-worker's private table as lib/db/queries/queue.ts does, and depends on it as that module does.

-- Ends every pending task, in every job, that asked for the file by one of `p_names`: completed with the report's
-- columns, or not found, or failed with `p_error` (the report's columns null). Only pending tasks: run twice, the same.
CREATE FUNCTION "hashscan_finish_tasks"(
	"p_names" text[], "p_status" text, "p_error" text, "p_source" text,
	"p_sha256" text, "p_md5" text, "p_sha1" text, "p_fortinet" text, "p_fortinet_category" text,
	"p_detected" int, "p_engines" int, "p_scan_date" timestamptz, "p_meaningful_name" text, "p_file_type" text
) RETURNS void LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	UPDATE "tasks" SET
		"status" = "p_status", "error" = "p_error", "retry_at" = NULL, "source" = "p_source",
		"sha256" = "p_sha256", "md5" = "p_md5", "sha1" = "p_sha1", "fortinet" = "p_fortinet",
		"fortinet_category" = "p_fortinet_category", "detected" = "p_detected", "engines" = "p_engines",
		"scan_date" = "p_scan_date", "meaningful_name" = "p_meaningful_name", "file_type" = "p_file_type",
		"updated_at" = now(), "changed_xid" = pg_current_xact_id()
	WHERE "status" = 'pending' AND "hash" = ANY ("p_names");
END $$;
--> statement-breakpoint

-- Lookups (queue keys `p_keys`) that wait for a lease its holder just gave up run now.
CREATE FUNCTION "hashscan_wake_lease_waiters"("p_keys" text[]) RETURNS void LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	UPDATE "graphile_worker"."_private_jobs" j SET "run_at" = now(), "updated_at" = now()
	WHERE j."key" = ANY ("p_keys") AND j."locked_at" IS NULL AND j."run_at" > now()
		AND j."payload"->'waitingFor'->>'for' = 'lease';
END $$;
--> statement-breakpoint

-- Gives up a name's lease, if `p_holder` still holds it.
CREATE FUNCTION "hashscan_release_lease"("p_hash" text, "p_holder" text) RETURNS void LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	DELETE FROM "lookup_leases" WHERE "hash" = "p_hash" AND "holder" = "p_holder";
END $$;
--> statement-breakpoint

-- Counts `p_n` lookups our cache answered instead of VirusTotal, on today's (UTC) counter.
CREATE FUNCTION "hashscan_count_saved_requests"("p_budget" text, "p_n" int) RETURNS void LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	IF "p_n" <= 0 THEN
		RETURN;
	END IF;
	INSERT INTO "vt_usage" ("budget", "period", "count")
	VALUES ("p_budget", 'saved:day:' || to_char(now() AT TIME ZONE 'utc', 'YYYY-MM-DD'), "p_n")
	ON CONFLICT ("budget", "period") DO UPDATE SET "count" = "vt_usage"."count" + excluded."count";
END $$;
--> statement-breakpoint

-- Keeps the newest report of a file per source: the simulator's never replaces VirusTotal's.
CREATE FUNCTION "hashscan_save_report"(
	"p_source" text, "p_sha256" text, "p_md5" text, "p_sha1" text, "p_fortinet" text, "p_fortinet_category" text,
	"p_detected" int, "p_engines" int, "p_scan_date" timestamptz, "p_meaningful_name" text, "p_file_type" text, "p_raw" jsonb
) RETURNS void LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	INSERT INTO "reports" (
		"sha256", "md5", "sha1", "source", "fetched_at", "fortinet", "fortinet_category", "detected", "engines", "scan_date",
		"meaningful_name", "file_type", "raw")
	VALUES (
		"p_sha256", "p_md5", "p_sha1", "p_source", now(), "p_fortinet", "p_fortinet_category", "p_detected", "p_engines",
		"p_scan_date", "p_meaningful_name", "p_file_type", "p_raw")
	ON CONFLICT ("sha256", "source") DO UPDATE SET
		"md5" = excluded."md5", "sha1" = excluded."sha1", "fetched_at" = excluded."fetched_at", "fortinet" = excluded."fortinet",
		"fortinet_category" = excluded."fortinet_category", "detected" = excluded."detected", "engines" = excluded."engines",
		"scan_date" = excluded."scan_date", "meaningful_name" = excluded."meaningful_name", "file_type" = excluded."file_type",
		"raw" = excluded."raw";
END $$;
--> statement-breakpoint

-- A lookup's final outcome, written only while its run still holds its queue row (job `p_job_id`, locked by
-- `p_locked_by` at attempt `p_attempts`): then its tasks end as hashscan_finish_tasks says, the saved count grows by
-- `p_saved`, the row is deleted, lookups waiting for the lease run now, the lease is given up, and it returns
-- 'settled'. Otherwise it writes nothing (fenced) and says what it found: 'gone', neither the row nor the run's lease
-- is there any more (what a settle that already committed leaves, or a row another run took over and finished), or
-- 'taken', another run holds the row or the lease still stands without it.
-- Each statement here reads a snapshot taken when it starts (a VOLATILE function's): a job created while this waited
-- for the row's lock (its enqueue updates our row) has its tasks committed by then, and they end with the others.
CREATE FUNCTION "hashscan_settle_row"(
	"p_job_id" bigint, "p_locked_by" text, "p_attempts" int, "p_hash" text, "p_key" text, "p_holder" text,
	"p_budget" text, "p_saved" int,
	"p_names" text[], "p_status" text, "p_error" text, "p_source" text,
	"p_sha256" text, "p_md5" text, "p_sha1" text, "p_fortinet" text, "p_fortinet_category" text,
	"p_detected" int, "p_engines" int, "p_scan_date" timestamptz, "p_meaningful_name" text, "p_file_type" text
) RETURNS text LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	PERFORM 1 FROM "graphile_worker"."_private_jobs"
	WHERE "id" = "p_job_id" AND "locked_by" = "p_locked_by" AND "attempts" = "p_attempts"
	FOR UPDATE;
	IF NOT FOUND THEN
		IF EXISTS (SELECT 1 FROM "graphile_worker"."_private_jobs" WHERE "id" = "p_job_id")
			OR EXISTS (SELECT 1 FROM "lookup_leases" WHERE "hash" = "p_hash" AND "holder" = "p_holder")
		THEN
			RETURN 'taken';
		END IF;
		RETURN 'gone';
	END IF;
	PERFORM "hashscan_finish_tasks"(
		"p_names", "p_status", "p_error", "p_source", "p_sha256", "p_md5", "p_sha1", "p_fortinet", "p_fortinet_category",
		"p_detected", "p_engines", "p_scan_date", "p_meaningful_name", "p_file_type");
	PERFORM "hashscan_count_saved_requests"("p_budget", "p_saved");
	DELETE FROM "graphile_worker"."_private_jobs" WHERE "id" = "p_job_id";
	PERFORM "hashscan_wake_lease_waiters"(ARRAY["p_key"]);
	PERFORM "hashscan_release_lease"("p_hash", "p_holder");
	RETURN 'settled';
END $$;
--> statement-breakpoint

-- A lookup's settle, with VirusTotal's answer when it has one (`p_raw`, the report's columns those of the tasks'
-- end): `outcome` is hashscan_settle_row's. The answer is paid for: it is stored first, and kept whatever the settle
-- then meets. A settle that fails after it (a deadlock, a bug, a lock waited for past the statement's timeout) is
-- rolled back alone, to a savepoint, and its error returned rather than raised, so that the answer commits: `outcome`
-- null, with the error's SQLSTATE and message for the caller to raise and, if a retry can cure it, to try the settle
-- again. Without an answer, its errors are raised as they came.
CREATE FUNCTION "hashscan_settle_lookup"(
	"p_job_id" bigint, "p_locked_by" text, "p_attempts" int, "p_hash" text, "p_key" text, "p_holder" text,
	"p_budget" text, "p_saved" int,
	"p_names" text[], "p_status" text, "p_error" text, "p_source" text,
	"p_sha256" text, "p_md5" text, "p_sha1" text, "p_fortinet" text, "p_fortinet_category" text,
	"p_detected" int, "p_engines" int, "p_scan_date" timestamptz, "p_meaningful_name" text, "p_file_type" text,
	"p_raw" jsonb
) RETURNS TABLE ("outcome" text, "failed_code" text, "failed_message" text) LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
	"v_outcome" text;
	"v_code" text;
	"v_message" text;
BEGIN
	IF "p_raw" IS NOT NULL THEN
		PERFORM "hashscan_save_report"(
			"p_source", "p_sha256", "p_md5", "p_sha1", "p_fortinet", "p_fortinet_category", "p_detected", "p_engines",
			"p_scan_date", "p_meaningful_name", "p_file_type", "p_raw");
	END IF;
	BEGIN
		"v_outcome" := "hashscan_settle_row"(
			"p_job_id", "p_locked_by", "p_attempts", "p_hash", "p_key", "p_holder", "p_budget", "p_saved", "p_names",
			"p_status", "p_error", "p_source", "p_sha256", "p_md5", "p_sha1", "p_fortinet", "p_fortinet_category",
			"p_detected", "p_engines", "p_scan_date", "p_meaningful_name", "p_file_type");
	-- OTHERS leaves out a cancel, which a statement timeout is: named, it is caught too.
	EXCEPTION WHEN OTHERS OR query_canceled THEN
		-- Without an answer to keep, the error is raised as it came.
		IF "p_raw" IS NULL THEN
			RAISE;
		END IF;
		GET STACKED DIAGNOSTICS "v_code" = RETURNED_SQLSTATE, "v_message" = MESSAGE_TEXT;
		RETURN QUERY SELECT NULL::text, "v_code", "v_message";
		RETURN;
	END;
	RETURN QUERY SELECT "v_outcome", NULL::text, NULL::text;
END $$;
