/** @type {import('next').NextConfig} */
const nextConfig = {
  // The e2e suite builds into a folder of its own (NEXT_DIST_DIR), so it never replaces the build a running
  // `npm start` serves from the same checkout.
  distDir: process.env.NEXT_DIST_DIR || ".next",
  // The Docker image ships the standalone server; `next start` (npm start, the e2e suite) wants the plain build.
  output: process.env.NEXT_OUTPUT === "standalone" ? "standalone" : undefined,
  experimental: {
    // Our own limit is MAX_UPLOAD_BYTES (16 MB, lib/jobs/upload-limits.ts) and answers with a clear error; Next's own cap
    // sits just above it so that multipart overhead never trips Next's opaque one first.
    serverActions: { bodySizeLimit: "17mb" },
  },
};

export default nextConfig;
