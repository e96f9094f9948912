"use client";

import { useActionState, useMemo, useState } from "react";
import { parseHashText, type ParseResult } from "@/lib/hashes";
import { plural } from "@/lib/plural";
import { submitHashes, type SubmitState } from "./actions";

export function UploadForm() {
  const [state, action, pending] = useActionState<SubmitState, FormData>(submitHashes, null);
  const [text, setText] = useState("");
  const [fileResult, setFileResult] = useState<{ name: string; parsed: ParseResult } | null>(null);
  const textResult = useMemo(() => (text.trim() ? parseHashText(text) : null), [text]);
  const preview = fileResult?.parsed ?? textResult;

  return (
    <form action={action} className="space-y-5 rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
      <div>
        <label htmlFor="file" className="block text-sm font-medium">
          A text file of hashes
        </label>
        <input
          id="file"
          name="file"
          type="file"
          accept=".txt,.csv,.ioc,.log,text/plain,text/csv"
          className="mt-1 block w-full text-sm file:mr-3 file:rounded file:border-0 file:bg-slate-800 file:px-3 file:py-1.5 file:text-white"
          onChange={async (event) => {
            const file = event.target.files?.[0];
            setFileResult(file ? { name: file.name, parsed: parseHashText(await file.text()) } : null);
          }}
        />
      </div>
      <div>
        <label htmlFor="text" className="block text-sm font-medium">
          …or paste them
        </label>
        <textarea
          id="text"
          name="text"
          rows={8}
          value={text}
          onChange={(event) => setText(event.target.value)}
          placeholder={"One or more MD5, SHA-1 or SHA-256 hashes per line; IOC lists with comments are fine.\n# comment lines are skipped"}
          className="mt-1 block w-full rounded border border-slate-300 p-2 font-mono text-sm"
        />
      </div>
      <div>
        <label htmlFor="name" className="block text-sm font-medium">
          Name <span className="font-normal text-slate-500">(optional)</span>
        </label>
        <input id="name" name="name" maxLength={200} className="mt-1 block w-full rounded border border-slate-300 p-2 text-sm" />
      </div>

      {preview && <Preview parsed={preview} />}
      {state && !state.ok && (
        <p role="alert" className="rounded bg-red-50 p-3 text-sm text-red-800">
          {state.error}
        </p>
      )}
      <button
        type="submit"
        disabled={pending}
        className="rounded bg-blue-700 px-4 py-2 font-medium text-white hover:bg-blue-800 disabled:opacity-60"
      >
        {pending ? "Submitting…" : "Look up hashes"}
      </button>
    </form>
  );
}

function Preview({ parsed }: { parsed: ParseResult }) {
  const { md5, sha1, sha256 } = parsed.counts;
  return (
    <p className="text-sm text-slate-600" data-testid="preview">
      {plural(parsed.hashes.length, "distinct hash", "distinct hashes")} ({md5} MD5, {sha1} SHA-1, {sha256} SHA-256),{" "}
      {plural(parsed.duplicates, "duplicate")}, {plural(parsed.invalidCount, "line")} without a hash.
    </p>
  );
}
