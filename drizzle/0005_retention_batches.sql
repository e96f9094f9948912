ALTER TABLE "jobs" ADD COLUMN "expired_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "not_found_hashes_checked_at_idx" ON "not_found_hashes" USING btree ("checked_at");--> statement-breakpoint
CREATE INDEX "reports_fetched_at_idx" ON "reports" USING btree ("fetched_at","sha256","source");