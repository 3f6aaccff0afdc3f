# syntax=docker/dockerfile:1
# herald: one image for both components. The entrypoint is the CLI (DESIGN.md,
# "Command line"); the first argument picks the component:
#   docker run herald:dev controller --help
#   docker run herald:dev speaker --help
# Kubernetes passes `controller …` / `speaker …` as args (manifests/base).
#
# Build stage: compilers for the native addons (raw-socket and speaker/native, built by
# node-gyp during `npm ci`), the type check, then the dev dependencies pruned away.
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
COPY tsconfig.json ./
COPY shared/ shared/
COPY controller/ controller/
COPY speaker/ speaker/
# The type check covers what the image runs. test/ is not in the image, so shared/cli.ts
# (which loads the `apiserver` and `lab` commands from test/) is left to the repository's
# own `npm run typecheck`.
COPY <<'EOF_TSCONFIG' tsconfig.image.json
{
  "extends": "./tsconfig.json",
  "include": ["shared", "controller", "speaker"],
  "exclude": ["shared/cli.ts", "node_modules", "speaker/native/build"]
}
EOF_TSCONFIG
RUN npx tsc -p tsconfig.image.json \
 && npm prune --omit=dev \
 && rm -rf speaker/native/build/Release/obj.target speaker/native/build/Release/.deps

# Runtime stage: Node and the pruned node_modules (tsx is a runtime dependency: it runs
# the TypeScript sources), no compilers.
FROM node:20.20.2-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules/ node_modules/
COPY --from=build /app/shared/ shared/
COPY --from=build /app/controller/ controller/
COPY --from=build /app/speaker/ speaker/
# The image's `node` user; the speaker's pod spec runs it as root with only NET_RAW and
# NET_ADMIN (manifests/base/speaker.yaml).
USER 1000:1000
ENTRYPOINT ["node", "--import", "tsx", "shared/cli.ts"]
CMD ["--help"]
