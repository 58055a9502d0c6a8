# syntax=docker/dockerfile:1
#
# countersign container image.
#
#   docker build -t countersign .
#   docker run -p 4874:4874 -v countersign-data:/data countersign
#
# Three stages on one Debian release (bookworm), so the native addon compiled in `build` runs
# against the same glibc in `runtime`:
#   build    production dependencies only (`npm ci --omit=dev`); better-sqlite3 is compiled from
#            source here with python3, make and g++ (no prebuilt binary is downloaded)
#   compile  the TypeScript, then `npm pack`: the image holds exactly the files the npm package
#            ships (package.json "files": dist/src and config)
#   runtime  Node.js LTS, the packed files and the production node_modules; no compiler, no
#            dev dependencies; a numeric non-root user
#
# test/deploy/production-install.test.ts runs the same `npm pack`, `npm ci --omit=dev` and CMD in
# a temporary directory; test/deploy/dockerfile.test.ts lints this file.

ARG NODE_VERSION=26
ARG DEBIAN_RELEASE=bookworm

FROM node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim AS build
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# build_from_source: prebuild-install would otherwise download an unverified binary from GitHub;
# nodedir: node-gyp compiles against the headers this image ships instead of downloading them.
# Then keep only the compiled addon of better-sqlite3: its sources and objects are 25 MB.
RUN npm_config_build_from_source=better-sqlite3 npm_config_nodedir=/usr/local \
    npm ci --omit=dev --no-audit --no-fund \
  && mv node_modules/better-sqlite3/build/Release/better_sqlite3.node /tmp/ \
  && rm -rf node_modules/better-sqlite3/build node_modules/better-sqlite3/deps node_modules/better-sqlite3/src \
  && mkdir -p node_modules/better-sqlite3/build/Release \
  && mv /tmp/better_sqlite3.node node_modules/better-sqlite3/build/Release/

FROM node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim AS compile
WORKDIR /src
COPY package.json package-lock.json ./
# Type definitions and tsc only: no install script needs to run for that.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json README.md ./
COPY config ./config
COPY src ./src
RUN npx tsc -p tsconfig.json \
  && npm pack --pack-destination /tmp \
  && mkdir /app \
  && tar -xzf /tmp/countersign-*.tgz -C /app --strip-components=1

FROM node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim AS runtime
ENV NODE_ENV=production \
    COUNTERSIGN_CONFIG=/etc/countersign/config.yaml \
    COUNTERSIGN_DATA_DIR=/data
RUN groupadd --system --gid 10001 countersign \
  && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin countersign \
  && mkdir -p /data /etc/countersign \
  && chown 10001:10001 /data
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=compile /app ./
COPY config/default.yaml /etc/countersign/config.yaml
USER 10001:10001
VOLUME ["/data"]
EXPOSE 4874
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.COUNTERSIGN_PORT || 4874}/-/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node is PID 1 and handles SIGTERM itself: stop accepting, drain for server.shutdownGrace, exit 0.
STOPSIGNAL SIGTERM
# --heap-growing-percent=50: after each full GC, V8 lets the heap grow by half of what is live
# instead of up to 4 times it; a busy proxy then stays near 270 MB resident instead of 330 MB
# (bench/README.md). Keep the flags of `npm start` the same (test/deploy/dockerfile.test.ts).
CMD ["node", "--enable-source-maps", "--heap-growing-percent=50", "dist/src/cli/main.js", "serve"]
