"use client";

import { useState } from "react";

/** Copies a sample command; where the Clipboard API is missing (plain http), the old way. */
export function CopyCommand({ text }: { text: string }) {
  const [copied, setCopied] = useState<boolean | null>(null);
  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
    } catch {
      const area = document.createElement("textarea");
      area.value = text;
      document.body.append(area);
      area.select();
      setCopied(document.execCommand("copy"));
      area.remove();
    }
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
