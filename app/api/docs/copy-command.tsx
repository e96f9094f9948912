"use client";

import { useState } from "react";
import { copyText } from "../../copy-text";

/** Copies a sample command. */
export function CopyCommand({ text }: { text: string }) {
  const [copied, setCopied] = useState<boolean | null>(null);
  async function copy() {
    setCopied(await copyText(text));
    setTimeout(() => setCopied(null), 2000);
  }
  return (
    <button
      type="button"
      onClick={copy}
      className="rounded border border-slate-600 px-2 py-0.5 text-xs text-slate-300 hover:bg-slate-700 hover:text-white"
    >
      <span aria-live="polite">{copied === true ? "Copied" : copied === false ? "Select and copy" : "Copy"}</span>
    </button>
  );
}
