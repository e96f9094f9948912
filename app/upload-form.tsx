"use client";

import { useRouter } from "next/navigation";
import { useActionState, useDeferredValue, useEffect, useMemo, useRef, useState, type DragEvent, type ReactNode } from "react";
import { decodeText, parseHashText, type ParseResult } from "@/lib/hashes";
import { MAX_UPLOAD_BYTES, MAX_UPLOAD_LABEL } from "@/lib/jobs/upload-limits";
import { plural } from "@/lib/plural";
import { submitHashes, type SubmitState } from "./actions";
import { saveApiToken, useApiToken } from "./api-token";
import { saveManageToken } from "./manage-tokens";

/** The chosen or dropped file, read and parsed in the browser by the parser the server uses. */
type ChosenFile = { name: string; size: number } & ({ parsed: ParseResult } | { tooLarge: true });

const INVALID_SHOWN = 3;
const field =
  "mt-1 block w-full rounded border border-slate-300 bg-white p-2 text-sm placeholder:text-slate-400 dark:border-slate-700 dark:bg-slate-950 dark:placeholder:text-slate-500";

/** `tokensRequired`: the deployment has API_TOKENS set, and the form must carry one. */
export function UploadForm({ tokensRequired = false }: { tokensRequired?: boolean }) {
  const apiToken = useApiToken();
  const [state, action, pending] = useActionState<SubmitState, FormData>(submitHashes, null);
  const router = useRouter();
  const created = state?.ok ? state : null;
  // The job exists: this browser keeps its manage token (it may cancel and retry), then opens the report.
  useEffect(() => {
    if (!created) return;
    saveManageToken(created.id, created.manageToken);
    router.push(`/jobs/${created.id}`);
  }, [created, router]);
  const fileInput = useRef<HTMLInputElement>(null);
  const [chosen, setChosen] = useState<ChosenFile | null>(null);
  const [dragging, setDragging] = useState(false);
  const [text, setText] = useState("");
  // A pasted list can be megabytes: typing stays responsive while its preview catches up.
  const deferredText = useDeferredValue(text);
  const textResult = useMemo(() => (deferredText.trim() ? parseHashText(deferredText) : null), [deferredText]);

  async function choose(file: File | undefined) {
    if (!file) return setChosen(null);
    if (file.size > MAX_UPLOAD_BYTES) return setChosen({ name: file.name, size: file.size, tooLarge: true });
    const content = decodeText(new Uint8Array(await file.arrayBuffer()));
    // Another file may have been chosen while this one was read.
    if (fileInput.current?.files?.[0] !== file) return;
    setChosen({ name: file.name, size: file.size, parsed: parseHashText(content) });
  }

  function removeFile() {
    if (fileInput.current) fileInput.current.value = "";
    setChosen(null);
  }

  const carriesFiles = (event: DragEvent) => event.dataTransfer.types.includes("Files");
  const dropHandlers = {
    onDragOver(event: DragEvent<HTMLFormElement>) {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
      setDragging(true);
    },
    onDragLeave(event: DragEvent<HTMLFormElement>) {
      if (!event.currentTarget.contains(event.relatedTarget as Node | null)) setDragging(false);
    },
    onDrop(event: DragEvent<HTMLFormElement>) {
      if (!carriesFiles(event)) return;
      // Dropped anywhere on the form, a file is taken here rather than opened by the browser in place of the page.
      event.preventDefault();
      setDragging(false);
      const file = event.dataTransfer.files[0];
      if (!file || !fileInput.current) return;
      // The server action reads the form's file input, so the dropped file must become that input's file.
      const transfer = new DataTransfer();
      transfer.items.add(file);
      fileInput.current.files = transfer.files;
      void choose(file);
    },
  };

  const preview = chosen ?? (textResult && { parsed: textResult });
  return (
    <form
      action={action}
      {...dropHandlers}
      className="space-y-5 rounded-lg border border-slate-200 bg-white p-4 shadow-sm sm:p-6 dark:border-slate-800 dark:bg-slate-900"
    >
      <div
        data-testid="drop-zone"
        data-dragging={dragging || undefined}
        className="rounded-lg border-2 border-dashed border-slate-300 p-5 text-center transition-colors data-dragging:border-blue-700 data-dragging:bg-blue-50 dark:border-slate-700 dark:data-dragging:border-blue-400 dark:data-dragging:bg-blue-950"
      >
        <p className="font-medium">
          <span className="pointer-coarse:hidden">Drop a text file of hashes here</span>
          <span className="hidden pointer-coarse:inline">A text file of hashes</span>
        </p>
        <p className="mt-1 text-sm text-slate-500 dark:text-slate-400">
          A list, CSV export or IOC file, up to {MAX_UPLOAD_LABEL}
        </p>
        <input
          ref={fileInput}
          id="file"
          name="file"
          type="file"
          accept=".txt,.csv,.ioc,.log,text/plain,text/csv"
          className="peer sr-only"
          onChange={(event) => void choose(event.target.files?.[0])}
        />
        <label
          htmlFor="file"
          className="mt-3 inline-block cursor-pointer rounded border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-slate-100 peer-focus-visible:outline-2 peer-focus-visible:outline-offset-2 peer-focus-visible:outline-blue-700 dark:border-slate-600 dark:bg-slate-800 dark:hover:bg-slate-700 dark:peer-focus-visible:outline-blue-400"
        >
          Choose a file of hashes
        </label>
        {chosen && (
          <p className="mt-3 flex flex-wrap items-center justify-center gap-x-3 gap-y-1 text-sm" data-testid="chosen-file">
            <span className="min-w-0 font-mono wrap-anywhere">{chosen.name}</span>
            <span className="text-slate-500 dark:text-slate-400">{formatBytes(chosen.size)}</span>
            <button
              type="button"
              onClick={removeFile}
              className="rounded text-blue-700 underline underline-offset-2 hover:text-blue-900 dark:text-blue-400 dark:hover:text-blue-300"
            >
              Remove file
            </button>
          </p>
        )}
      </div>

      <div>
        <label htmlFor="text" className="block text-sm font-medium">
          Or paste hashes
        </label>
        <textarea
          id="text"
          name="text"
          rows={8}
          value={text}
          onChange={(event) => setText(event.target.value)}
          placeholder={"One or more MD5, SHA-1 or SHA-256 hashes per line; IOC lists with comments are fine.\n# comment lines are skipped"}
          className={`${field} font-mono`}
        />
      </div>
      <div>
        <label htmlFor="name" className="block text-sm font-medium">
          Name <span className="font-normal text-slate-500 dark:text-slate-400">(optional)</span>
        </label>
        <input id="name" name="name" maxLength={200} className={field} />
      </div>
      {tokensRequired && (
        <div>
          <label htmlFor="apiToken" className="block text-sm font-medium">
            API token <span className="font-normal text-slate-500 dark:text-slate-400">(this deployment asks for one; kept in this browser)</span>
          </label>
          <input
            id="apiToken"
            name="apiToken"
            type="password"
            autoComplete="off"
            required
            value={apiToken}
            onChange={(event) => saveApiToken(event.target.value.trim())}
            className={`${field} font-mono`}
          />
        </div>
      )}

      {preview && <Preview source={chosen ? chosen.name : null} preview={preview} alsoText={chosen !== null && text.trim() !== ""} />}
      {state && !state.ok && (
        <p role="alert" className="rounded bg-red-50 p-3 text-sm text-red-800 dark:border dark:border-red-900/60 dark:bg-red-950/40 dark:text-red-200">
          {state.error}
        </p>
      )}
      <button
        type="submit"
        disabled={pending || created !== null}
        className="w-full rounded bg-blue-700 px-4 py-2 font-medium text-white hover:bg-blue-800 disabled:opacity-60 sm:w-auto dark:bg-blue-600 dark:hover:bg-blue-500"
      >
        {pending || created ? "Submitting…" : "Look up hashes"}
      </button>
    </form>
  );
}

function Preview({
  source,
  preview,
  alsoText,
}: {
  source: string | null;
  preview: { parsed: ParseResult } | { tooLarge: true };
  alsoText: boolean;
}) {
  const from = source === null ? "In the pasted text" : <>In <span className="font-mono wrap-anywhere">{source}</span></>;
  return (
    <div
      role="status"
      data-testid="preview"
      className="space-y-2 rounded border border-slate-200 bg-slate-50 p-3 text-sm text-slate-700 dark:border-slate-800 dark:bg-slate-950 dark:text-slate-300"
    >
      {"tooLarge" in preview ? (
        <p className="text-red-800 dark:text-red-300">
          {from}: the file is larger than {MAX_UPLOAD_LABEL}, so it would be refused.
        </p>
      ) : (
        <Counts from={from} parsed={preview.parsed} />
      )}
      {alsoText && (
        <p className="text-amber-800 dark:text-amber-300">
          A file and pasted text are both filled in, but only one can be sent: remove the file or clear the text.
        </p>
      )}
    </div>
  );
}

function Counts({ from, parsed }: { from: ReactNode; parsed: ParseResult }) {
  const { md5, sha1, sha256 } = parsed.counts;
  const shown = parsed.invalid.slice(0, INVALID_SHOWN);
  return (
    <>
      <p>
        {from}:{" "}
        <strong className="font-semibold text-slate-900 dark:text-white">
          {plural(parsed.hashes.length, "distinct hash", "distinct hashes")}
        </strong>{" "}
        ({md5} MD5, {sha1} SHA-1, {sha256} SHA-256), {plural(parsed.duplicates, "duplicate")},{" "}
        {plural(parsed.invalidCount, "line")} without a hash.
      </p>
      {shown.length > 0 && (
        <ul className="space-y-0.5 text-xs text-slate-500 dark:text-slate-400" aria-label="Lines without a hash">
          {shown.map((line) => (
            <li key={line.line} className="wrap-anywhere">
              Line {line.line}: <span className="font-mono">{line.value}</span> — {line.reason}
            </li>
          ))}
          {parsed.invalidCount > shown.length && <li>…and {plural(parsed.invalidCount - shown.length, "more line")}</li>}
        </ul>
      )}
    </>
  );
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return plural(bytes, "byte");
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
