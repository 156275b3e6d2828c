# syntax=docker/dockerfile:1
# One image, two commands: tor-server and the gateway share the workspace build (the gateway
# imports the TFTCP client from tor-server), so one image keeps them in lockstep. Compose
# runs it twice with different commands.

FROM node:20-bookworm-slim AS build
WORKDIR /app
# Manifests first, so dependency layers are cached until they change.
COPY package.json package-lock.json tsconfig.json ./
COPY tor-server/package.json tor-server/
COPY gateway/package.json gateway/
COPY web/package.json web/
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tor-server tor-server
COPY gateway gateway
COPY web web
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    TOR_DIR=/data/tor_files \
    TOR_STATE_DIR=/data/tor-state
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/tor-server/package.json tor-server/
COPY --from=build /app/tor-server/bin tor-server/bin
COPY --from=build /app/tor-server/dist tor-server/dist
COPY --from=build /app/gateway/package.json gateway/
COPY --from=build /app/gateway/bin gateway/bin
COPY --from=build /app/gateway/dist gateway/dist
COPY --from=build /app/web/dist web/dist
RUN mkdir -p /data/tor_files /data/tor-state && chmod 700 /data/tor-state && chown -R node:node /data
USER node
VOLUME ["/data/tor_files", "/data/tor-state"]
EXPOSE 7777 8080
# The same bins `npm start` runs (scripts/start.mjs); compose picks one per service.
CMD ["node", "--initial-heap-size=32", "tor-server/bin/tor-server.js"]
