import type { Metadata } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { env } from "@/lib/env";
import { NavLink } from "./nav-link";
import { Providers } from "./providers";
import { ServiceStatusBar } from "./service-status";
import "./globals.css";

export const metadata: Metadata = {
  title: "Hashscan",
  description: "Bulk file-hash triage against VirusTotal",
};

// The banner depends on the runtime environment (VT_API_KEY), never on the build machine's.
export const dynamic = "force-dynamic";

export default function RootLayout({ children }: { children: ReactNode }) {
  const simulated = env().vt.source === "simulator";
  return (
    <html lang="en">
      <body className="min-h-screen bg-slate-50 text-slate-900 antialiased dark:bg-slate-950 dark:text-slate-100">
        {simulated && (
          <div
            role="status"
            className="bg-amber-100 px-4 py-2 text-center text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-200"
          >
            <strong>Simulated results.</strong> No <code>VT_API_KEY</code> is set, so lookups are answered by the
            bundled VirusTotal simulator, not by VirusTotal.
          </div>
        )}
        <header className="border-b border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
          <div className="mx-auto flex max-w-6xl items-center gap-3 px-4 py-3">
            <Link href="/" className="rounded text-lg font-semibold tracking-tight">
              Hashscan
            </Link>
            <span className="hidden text-sm text-slate-500 sm:inline dark:text-slate-400">
              bulk hash triage against VirusTotal
            </span>
            <nav aria-label="Main" className="ml-auto flex items-center gap-1">
              <NavLink href="/">Submit</NavLink>
              <NavLink href="/queue">Queue</NavLink>
              <NavLink href="/api/docs">API</NavLink>
            </nav>
          </div>
        </header>
        <Providers>
          <ServiceStatusBar />
          <main className="mx-auto max-w-6xl px-4 py-8">{children}</main>
        </Providers>
      </body>
    </html>
  );
}
