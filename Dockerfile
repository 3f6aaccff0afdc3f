# syntax=docker/dockerfile:1
# herald: one image for both components. The entrypoint is the CLI (DESIGN.md,
# "Command line"); the first argument picks the component:
#   docker run herald:dev controller --help
#   docker run herald:dev speaker --help
# Kubernetes passes `controller …` / `speaker …` as args (manifests/base).
#
# Build stage: compilers for the native addons (raw-socket and speaker/native, built by
# node-gyp during `npm ci`), the TypeScript build (type check and JavaScript in dist/),
# then the dev dependencies pruned away.
FROM node:20.20.2-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# node-gyp compiles against the headers in the image instead of downloading them.
ENV npm_config_nodedir=/usr/local
# speaker/native is a file: dependency (herald-native): npm ci links it and runs its
# node-gyp build, so its sources come before the install.
COPY package.json package-lock.json ./
COPY speaker/native/ speaker/native/
RUN npm ci \
 && test -f speaker/native/build/Release/herald_native.node
COPY tsconfig.json tsconfig.build.json ./
COPY shared/ shared/
COPY controller/ controller/
COPY speaker/ speaker/
# test/ is not in the image, but shared/cli.ts loads its `apiserver` and `lab` commands
# from there: these stand-ins say so instead (and let the build type-check the CLI).
COPY <<'EOF_STUB' test/apiserver/main.ts
export async function main(): Promise<number> {
  console.error('herald: `apiserver` is a test tool and not part of the image; run it from a checkout (npm run herald -- apiserver)');
  return 2;
}
EOF_STUB
COPY <<'EOF_STUB' test/lab/main.ts
export async function main(): Promise<number> {
  console.error('herald: `lab` is a test tool and not part of the image; run it from a checkout (npm run herald -- lab)');
  return 2;
}
EOF_STUB
# `npm run build`: type-checks and compiles to dist/. The image runs plain JavaScript:
# Node with tsx's loader took ~95 MB more RSS (DESIGN.md, "Targets": memory).
RUN npx tsc -p tsconfig.build.json \
 && test -f dist/shared/cli.js \
 && npm prune --omit=dev

# Runtime stage: Node, the pruned node_modules, the compiled JavaScript and the native
# addon (node_modules/herald-native links to speaker/native), no compilers, no sources.
FROM node:20.20.2-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules/ node_modules/
COPY --from=build /app/dist/ dist/
COPY --from=build /app/speaker/native/package.json speaker/native/package.json
COPY --from=build /app/speaker/native/build/Release/herald_native.node speaker/native/build/Release/herald_native.node
# The image's `node` user; the speaker's pod spec runs it as root with only NET_RAW and
# NET_ADMIN (manifests/base/speaker.yaml).
USER 1000:1000
# Node's heap flags are per component, in NODE_OPTIONS of its manifest: the old-space cap
# under the container's memory limit, and a young generation smaller than V8's 16 MB
# semi-spaces (controller 4 MB: its 10,000-Service cold start peaked ~175 MB with the
# default, ~130 MB with 4; speaker 1 MB: its peak holding 10,000 BGP routes fell by ~9 MB).
ENTRYPOINT ["node", "dist/shared/cli.js"]
CMD ["--help"]
