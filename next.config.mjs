/** @type {import('next').NextConfig} */
const nextConfig = {
  output: "standalone",
  experimental: {
    // Our own limit is MAX_UPLOAD_BYTES (16 MB, lib/jobs/limits.ts) and answers with a clear error; Next's own cap
    // sits just above it so that multipart overhead never trips Next's opaque one first.
    serverActions: { bodySizeLimit: "17mb" },
  },
};

export default nextConfig;
