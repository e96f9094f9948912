import { migrateDatabase } from "./migrate";
import { databaseUrl } from "./url";

const url = databaseUrl();
await migrateDatabase(url);
console.log(`Migrations applied to ${new URL(url).pathname.slice(1)}.`);
