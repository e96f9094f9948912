// Every response's security headers. The CSP allows inline scripts and styles: Next's App Router inlines the data
// it hydrates from in <script> tags, and nonces would need a proxy in front of every page (which buffers request
// bodies, and uploads go through a page's server action). Everything else is 'self' only, and no page may be
// framed. Development adds 'unsafe-eval' for React's refresh runtime.
const development = process.env.NODE_ENV === "development";
const contentSecurityPolicy = [
  "default-src 'self'",
  `script-src 'self' 'unsafe-inline'${development ? " 'unsafe-eval'" : ""}`,
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const securityHeaders = [
  { key: "Content-Security-Policy", value: contentSecurityPolicy },
  { key: "X-Frame-Options", value: "DENY" },
  { key: "X-Content-Type-Options", value: "nosniff" },
  // A report's address is its only key: it must not leave in a Referer when a link on it is followed.
  { key: "Referrer-Policy", value: "no-referrer" },
];
// Reports, pages and JSON, stay out of search engines even when a link to one is published somewhere.
const noIndex = [{ key: "X-Robots-Tag", value: "noindex, nofollow" }];

/** @type {import('next').NextConfig} */
const nextConfig = {
  poweredByHeader: false,
  async headers() {
    return [
      { source: "/:path*", headers: securityHeaders },
      { source: "/jobs/:path*", headers: noIndex },
      { source: "/api/jobs/:path*", headers: noIndex },
    ];
  },
  // The e2e suite builds into a folder of its own (NEXT_DIST_DIR), so it never replaces the build a running
  // `npm start` serves from the same checkout.
  distDir: process.env.NEXT_DIST_DIR || ".next",
  experimental: {
    // Our own limit is MAX_UPLOAD_BYTES (70 MB, lib/jobs/upload-limits.ts) and answers with a clear error; Next's own cap
    // sits just above it so that multipart overhead never trips Next's opaque one first.
    serverActions: { bodySizeLimit: "71mb" },
  },
};

export default nextConfig;
