import { getDb } from "../lib/db/client";
import { findJob } from "../lib/db/queries/jobs";
import { getJobReport } from "../lib/jobs/report";
const id = process.argv[2];
const db = getDb();
for (let i = 0; i < 2; i++) {
  let t = Date.now();
  await findJob(db, id);
  console.log("findJob", Date.now() - t);
  t = Date.now();
  await getJobReport(db, id, { limit: 100 });
  console.log("report", Date.now() - t);
}
process.exit(0);
