-- Written by hand, but for vt_window's table (drizzle-kit's). A claim on a request budget as functions, so that a
-- lookup's claim takes the budget's lock and commits without a round trip to the worker in between. The lock
-- serialises every claim on a budget and is held until commit; claimed by a statement of its own in the worker's
-- transaction, it was held for as long as the answer took to reach the worker and its commit to come back (most of a
-- lookup's time in Postgres, under load). A function called by a lookup's single statement (lib/db/queries/
-- lookup-start.ts) takes it, claims and, the statement being its own transaction, commits at once.
CREATE TABLE "vt_window" (
	"budget" text PRIMARY KEY NOT NULL,
	"newest" timestamp with time zone NOT NULL,
	"window_ms" double precision NOT NULL,
	"count" integer NOT NULL
);--> statement-breakpoint
-- The window's count moves from vt_usage counters keyed by the newest request's time
-- (`window@<µs>`: a new key, deleted and inserted, at every claim) to vt_window, one row per budget updated in place:
-- at hundreds of claims a second, the churned keys bloated vt_usage and its index between vacuums until every
-- counter's read was a scan of it. Requests older than kept are forgotten a few at a time, oldest first, by the
-- index (an unbounded delete was planned as a scan of every request kept).
DELETE FROM "vt_usage" WHERE "period" LIKE 'window@%';--> statement-breakpoint

-- A claim, after the budget's lock (taken here, or already held by the caller's transaction: the lock is
-- re-entrant), and so at the time after it: a PL/pgSQL statement after the lock reads a snapshot taken after it. Reads
-- the pause, the day's and month's counters and the requests in the sliding window, and when the request is free (no
-- pause, every count under its limit: decideSlot's grant, lib/budget/slot.ts) records it. Otherwise it writes nothing
-- but the window's count, and returns the state for decideSlot to say why and until when.
--
-- It costs the same at any limit and any rate: the window's count is kept in vt_window with the newest request it
-- was counted at and the window's length, so a claim reads only the requests that left the window since then (each
-- request is read once on its way out), plus a few index probes. Every request is recorded here; one recorded any
-- other way (a test) after the newest changes the newest, and one claimed with another window's length (processes
-- set up differently) finds another length: either no longer matches the row, and the window is counted whole once.
-- When the window is full, the moment it frees is one index probe (its oldest request) while it holds exactly the
-- limit.
CREATE FUNCTION "hashscan_claim_request"(
	"p_budget" text, "p_per_minute" int, "p_per_day" int, "p_per_month" int, "p_window_ms" float8
) RETURNS TABLE (
	"at" text, "granted" boolean, "pause_until" text, "pause_cause" text, "pause_reason" text, "in_window" int,
	"window_free_at" float8, "day" int, "month" int, "next_day" float8, "next_month" float8, "wake_cursor" float8
) LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
	"window_length" interval := make_interval(secs => "p_window_ms" / 1000);
	-- Requests are forgotten after ten minutes (the status page and the rate measurements read them): long out of
	-- any process's window, whatever its length (VT_RATE_WINDOW_SECONDS is at most 299 s, lib/env.ts), so that a
	-- process with a short window never forgets a request another's long window still counts.
	"kept_for" interval := interval '10 minutes';
BEGIN
	PERFORM pg_advisory_xact_lock(hashtext('hashscan:vt-budget:' || "p_budget"));
	RETURN QUERY
	WITH "clock" AS MATERIALIZED (SELECT clock_timestamp() AS "at"),
	"newest" AS MATERIALIZED (
		SELECT c."at", (SELECT max(r."at") FROM "vt_requests" r WHERE r."budget" = "p_budget") AS "m" FROM "clock" c
	),
	"counted" AS MATERIALIZED (
		SELECT n."at", n."m", w."count" AS "kept",
			coalesce(w."count", (SELECT count(*)::int FROM "vt_requests" r WHERE r."budget" = "p_budget" AND r."at" > n."m" - "window_length")) AS "by_newest"
		FROM "newest" n
		LEFT JOIN "vt_window" w ON w."budget" = "p_budget" AND w."newest" = n."m" AND w."window_ms" = "p_window_ms"
	),
	"state" AS MATERIALIZED (
		SELECT c."at", c."m", c."kept", c."by_newest",
			CASE
				WHEN c."m" IS NULL THEN 0
				-- Those counted at the newest request, less those that have left the window since.
				WHEN c."at" >= c."m" THEN c."by_newest" - (
					SELECT count(*)::int FROM "vt_requests" r
					WHERE r."budget" = "p_budget" AND r."at" > c."m" - "window_length" AND r."at" <= c."at" - "window_length")
				ELSE (SELECT count(*)::int FROM "vt_requests" r WHERE r."budget" = "p_budget" AND r."at" > c."at" - "window_length")
			END AS "in_window",
			coalesce((SELECT u."count" FROM "vt_usage" u WHERE u."budget" = "p_budget" AND u."period" = 'requests:day:' || to_char(c."at" AT TIME ZONE 'utc', 'YYYY-MM-DD')), 0) AS "day",
			coalesce((SELECT u."count" FROM "vt_usage" u WHERE u."budget" = "p_budget" AND u."period" = 'requests:month:' || to_char(c."at" AT TIME ZONE 'utc', 'YYYY-MM')), 0) AS "month",
			p."until" AS "pause_until", p."cause" AS "pause_cause", p."reason" AS "pause_reason"
		FROM "counted" c
		LEFT JOIN "vt_pause" p ON p."budget" = "p_budget" AND p."until" > c."at"
	),
	"granted" AS MATERIALIZED (
		SELECT * FROM "state" s
		WHERE s."pause_until" IS NULL AND s."month" < "p_per_month" AND s."day" < "p_per_day" AND s."in_window" < "p_per_minute"
	),
	"recorded" AS (INSERT INTO "vt_requests" ("budget", "at") SELECT "p_budget", g."at" FROM "granted" g RETURNING 1),
	"spent" AS (
		INSERT INTO "vt_usage" ("budget", "period", "count")
		SELECT "p_budget", p."period", 1
		FROM "granted" g, LATERAL (VALUES
			('requests:day:' || to_char(g."at" AT TIME ZONE 'utc', 'YYYY-MM-DD')),
			('requests:month:' || to_char(g."at" AT TIME ZONE 'utc', 'YYYY-MM'))
		) p("period")
		ON CONFLICT ("budget", "period") DO UPDATE SET "count" = "vt_usage"."count" + 1
		RETURNING 1
	),
	-- The window's count: at the new request when one is recorded; otherwise what was counted at the newest, when
	-- the row did not hold it yet.
	"window_kept" AS (
		INSERT INTO "vt_window" ("budget", "newest", "window_ms", "count")
		SELECT "p_budget", g."at", "p_window_ms", g."in_window" + 1 FROM "granted" g
		UNION ALL
		SELECT "p_budget", s."m", "p_window_ms", s."by_newest" FROM "state" s
		WHERE s."kept" IS NULL AND s."m" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "granted")
		ON CONFLICT ("budget") DO UPDATE SET "newest" = excluded."newest", "window_ms" = excluded."window_ms", "count" = excluded."count"
		RETURNING 1
	),
	-- A few at a time, oldest first: one request is recorded per claim, so they never pile up. The cut-off is one
	-- value (null when nothing is granted), so that it bounds the index's range: as a join's condition it was checked
	-- against every request kept, oldest first, when none was old enough.
	"forgotten" AS (
		DELETE FROM "vt_requests" r
		WHERE r."id" IN (
			SELECT o."id" FROM "vt_requests" o
			WHERE o."budget" = "p_budget" AND o."at" < (SELECT g."at" - "kept_for" FROM "granted" g)
			ORDER BY o."at" LIMIT 16
		)
		RETURNING 1
	)
	SELECT
		s."at"::text,
		EXISTS (SELECT 1 FROM "granted"),
		s."pause_until"::text, s."pause_cause"::text, s."pause_reason",
		s."in_window",
		-- When full: the oldest request of the window leaves it first (a probe); past the limit (a limit lowered), the
		-- one perMinute back from the newest.
		(SELECT extract(epoch FROM r."at") * 1000 + "p_window_ms" FROM "vt_requests" r
			WHERE s."in_window" >= "p_per_minute" AND r."budget" = "p_budget" AND r."at" > s."at" - "window_length"
			ORDER BY r."at" OFFSET greatest(s."in_window" - "p_per_minute", 0) LIMIT 1)::float8,
		s."day", s."month",
		(extract(epoch FROM date_trunc('day', s."at" AT TIME ZONE 'utc') + interval '1 day') * 1000)::float8,
		(extract(epoch FROM date_trunc('month', s."at" AT TIME ZONE 'utc') + interval '1 month') * 1000)::float8,
		(SELECT extract(epoch FROM w."at") * 1000 FROM "vt_wake_cursor" w WHERE w."budget" = "p_budget" AND w."at" > s."at")::float8
	FROM "state" s;
END $$;--> statement-breakpoint

-- A lookup's claim, made by the statement that took the name's lease (lookAndClaim): after the budget's lock, it claims
-- only while the lease is still `p_holder`'s, a pending task still wants the name, and no answer to it is in the cache
-- (read after the lock: the lease's previous holder may have stored one since the statement's snapshot). True: a
-- request is claimed; false: the window, a limit or a pause turned it away (no request recorded: acquireRequestSlot
-- decides when to come back); null: the condition did not hold.
-- The cache's conditions are lookup-start.ts's freshReports and recentNotFounds, which read the same answers.
CREATE FUNCTION "hashscan_claim_lookup_request"(
	"p_hash" text, "p_holder" text, "p_ttl_hours" int, "p_sources" text[], "p_not_found_hours" int,
	"p_budget" text, "p_per_minute" int, "p_per_day" int, "p_per_month" int, "p_window_ms" float8
) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	PERFORM pg_advisory_xact_lock(hashtext('hashscan:vt-budget:' || "p_budget"));
	IF NOT EXISTS (SELECT 1 FROM "lookup_leases" l WHERE l."hash" = "p_hash" AND l."holder" = "p_holder")
		OR NOT EXISTS (SELECT 1 FROM "tasks" t WHERE t."status" = 'pending' AND t."hash" = "p_hash")
		OR EXISTS (
			SELECT 1 FROM "reports" r
			WHERE (r."sha256" = "p_hash" OR r."md5" = "p_hash" OR r."sha1" = "p_hash")
				AND r."fetched_at" > now() - make_interval(hours => "p_ttl_hours") AND r."source" = ANY ("p_sources"))
		OR EXISTS (
			SELECT 1 FROM "not_found_hashes" n
			WHERE n."hash" = "p_hash" AND n."source" = ANY ("p_sources")
				AND n."checked_at" > now() - make_interval(hours => "p_not_found_hours"))
	THEN
		RETURN NULL;
	END IF;
	-- The lock is held until commit: not waiting for the commit to reach the disk (nor a synchronous standby) lets the
	-- next claim go sooner. Should Postgres itself crash (or fail over) within the moment before it does (the WAL
	-- writer flushes within a second), a request made may go uncounted, letting the minute after recovery go over the
	-- limit by as much (VirusTotal's 429 then pauses us), and the lease be forgotten; a worker crash loses nothing.
	PERFORM set_config('synchronous_commit', 'off', true);
	RETURN (SELECT c."granted" FROM "hashscan_claim_request"("p_budget", "p_per_minute", "p_per_day", "p_per_month", "p_window_ms") c);
END $$;
