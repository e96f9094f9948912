import { apiTokensRequired } from "@/lib/access/api-tokens";
import { MAX_UPLOAD_LABEL } from "@/lib/jobs/upload-limits";
import { RecentJobsList } from "./recent-jobs-list";
import { UploadForm } from "./upload-form";

export default function HomePage() {
  return (
    <div className="mx-auto max-w-3xl">
      <h1 className="text-2xl font-semibold">Look up file hashes on VirusTotal</h1>
      <p className="mt-2 text-slate-600 dark:text-slate-300">
        Submit a list of MD5, SHA-1 or SHA-256 hashes (up to {MAX_UPLOAD_LABEL}). Each is looked up in the background,
        reusing any report fetched in the last day, and you get a report page you can share: Fortinet&apos;s detection
        name, how many engines detected the file, and when it was scanned.
      </p>
      <div className="mt-6">
        <UploadForm tokensRequired={apiTokensRequired()} />
      </div>
      <RecentJobsList />
    </div>
  );
}
