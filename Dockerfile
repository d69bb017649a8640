# The example app (src/) with the library built from this repository: what deploy/kubernetes runs.
#   docker build -t nestjs-dapr-auth-example:0.1.0 .
# Multi-stage: the build stage has the dev tools; the image has the production dependencies, the
# compiled JavaScript, and runs as the unprivileged `node` user (uid 1000) on a read-only root.

FROM node:20.20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY libs/dapr-auth/package.json libs/dapr-auth/
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.app.json ./
COPY libs/dapr-auth libs/dapr-auth
COPY src src
RUN npm run build

FROM node:20.20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY libs/dapr-auth/package.json libs/dapr-auth/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/libs/dapr-auth/dist libs/dapr-auth/dist
COPY --from=build /app/dist dist
USER node
# HTTP (APP_PORT) and gRPC (APP_GRPC_PORT). Both listen on 127.0.0.1 by default (APP_HOST): in a
# pod, daprd reaches the app over localhost and nothing else needs to.
EXPOSE 3000 50051
CMD ["node", "dist/main.js"]
