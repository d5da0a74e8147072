# The image the Kubernetes Jobs of `megamath build --emit k8s --image IMAGE` run: Node 22 with megamath installed
# from this checkout, `megamath` on the PATH. megamath is not on a registry, so build and push it yourself:
#   docker build -t REGISTRY/megamath:0.1.0 .
#   docker push REGISTRY/megamath:0.1.0
# The package is installed as `npm pack` makes it (what a user of the package gets: dist/, bin/, the demo and
# decontamination fixtures, the recipes, the trainer), with its production dependencies only.
FROM node:22-bookworm-slim AS pack
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build && npm pack --pack-destination /tmp && mv /tmp/megamath-*.tgz /tmp/megamath.tgz

FROM node:22-bookworm-slim
COPY --from=pack /tmp/megamath.tgz /tmp/megamath.tgz
RUN npm install --global --no-audit --no-fund /tmp/megamath.tgz && rm /tmp/megamath.tgz && megamath --version
# The Jobs name their command; this default only answers `docker run IMAGE`.
CMD ["megamath", "--help"]
