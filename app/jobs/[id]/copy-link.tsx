"use client";

import { useState } from "react";
import { BUTTON } from "./styles";

/** Copies the report's address (with the current filters); where the Clipboard API is missing (plain http), the old way. */
export function CopyLink() {
  const [copied, setCopied] = useState<boolean | null>(null);
  async function copy() {
    const url = window.location.href;
    try {
      await navigator.clipboard.writeText(url);
      setCopied(true);
    } catch {
      const area = document.createElement("textarea");
      area.value = url;
      document.body.append(area);
      area.select();
      setCopied(document.execCommand("copy"));
      area.remove();
    }
    setTimeout(() => setCopied(null), 3000);
  }
  return (
    <span className="inline-flex items-center gap-2">
      <button type="button" onClick={copy} className={BUTTON}>
        Copy link
      </button>
      <span aria-live="polite" className="text-sm text-slate-600 dark:text-slate-400">
        {copied === true ? "Link copied" : copied === false ? "Copy failed: use the address bar" : ""}
      </span>
    </span>
  );
}
