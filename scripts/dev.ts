// `npm run dev`: everything, with the web app in Next's development server (hot reload; compiles on first request).
import { runStack } from "./run-stack";

await runStack("dev");
