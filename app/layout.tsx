import type { Metadata } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { env } from "@/lib/env";
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
      <body className="min-h-screen bg-slate-50 text-slate-900 antialiased">
        {simulated && (
          <div role="status" className="bg-amber-100 px-4 py-2 text-center text-sm text-amber-900">
            <strong>Simulated results.</strong> No <code>VT_API_KEY</code> is set, so lookups are answered by the
            bundled VirusTotal simulator, not by VirusTotal.
          </div>
        )}
        <header className="border-b border-slate-200 bg-white">
          <div className="mx-auto flex max-w-6xl items-center gap-3 px-4 py-3">
            <Link href="/" className="text-lg font-semibold tracking-tight">
              Hashscan
            </Link>
            <span className="text-sm text-slate-500">bulk hash triage against VirusTotal</span>
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
