// A transaction whose statements are sent together: written to the connection at once, answered in one round trip,
// between its begin's and its commit's. A lookup's settle (worker/settle.ts) is a handful of short statements, and
// the round trips between them, not the statements, were its cost. Only for statements decided beforehand: none can depend
// on another's answer except through the database. One that fails aborts the transaction, the ones after it fail
// with it, and it is rolled back.
import type postgres from "postgres";
import type { Db } from "./client";

/** A statement: an async function that awaits one postgres.js query, handed to the connection at once (`.execute()`). */
type Statements<T extends readonly unknown[]> = { [K in keyof T]: Promise<T[K]> };

/**
 * Runs `statements` in one transaction, in the order they are called, each sent without waiting for the one before;
 * resolves with their answers once it has committed. Rejects with the first statement's error when one failed
 * (nothing is written). Each statement hands its query to the connection when it is called (`.execute()`, as in
 * lib/db/queries/*): one that waits to be awaited first could reach the connection after a later one.
 */
export async function pipelinedTransaction<T extends readonly unknown[]>(
  db: Db,
  statements: (q: postgres.Sql) => Statements<T>,
): Promise<T> {
  // postgres.js's own transaction: its begin is a round trip of its own, and its commit follows the last answer;
  // a connection of our own (sql.reserve) could send those with the statements, but it is not given back to the
  // pool reliably when the server goes away (an outage left lookups waiting for a connection forever).
  return (await db.$client.begin(async (q) => {
    const settled: PromiseSettledResult<unknown>[] = await Promise.allSettled(statements(q as unknown as postgres.Sql));
    // The statement that failed first; those after it only say that the transaction was aborted.
    const failed = settled.find((answer): answer is PromiseRejectedResult => answer.status === "rejected");
    if (failed) throw failed.reason;
    return settled.map((answer) => (answer as PromiseFulfilledResult<unknown>).value);
  })) as unknown as T;
}
