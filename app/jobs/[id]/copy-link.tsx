"use client";

import { useState } from "react";
import { copyText } from "../../copy-text";
import { BUTTON } from "./styles";

/** Copies the report's address (with the current filters). */
export function CopyLink() {
  const [copied, setCopied] = useState<boolean | null>(null);
  async function copy() {
    setCopied(await copyText(window.location.href));
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
