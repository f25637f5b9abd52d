# syntax=docker/dockerfile:1
# One image for every role; the Kubernetes manifests pick the role by command:
#   python -m services.identity | services.facility | services.submittal | gateway
#   python -m services.<name> migrate   (the migration Jobs)
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG NODE_IMAGE=node:22-bookworm-slim

# --- build: compilers live here only, in case a pinned dependency has no wheel for this platform
FROM ${PYTHON_IMAGE} AS build
# The build stage is thrown away, so whichever compiler Debian ships is fine: no version pins.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential libpq-dev libffi-dev \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# Dependencies first, so a source change does not reinstall them. Only the runtime dependencies
# from pyproject.toml, pinned by constraints.txt; the source itself is copied, not installed,
# so Alembic scripts, SDL files and templates sit where the code expects them.
COPY pyproject.toml constraints.txt ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
 && pip install -r requirements.txt -c constraints.txt
COPY common ./common
COPY services ./services
COPY gateway ./gateway
# Hash-checked bytecode stays valid whatever mtimes the COPY below gives the sources.
RUN python -m compileall -q --invalidation-mode unchecked-hash /src

# --- portal: the web app's static files (the gateway serves them at /), checked against the
# supergraph while building
FROM ${NODE_IMAGE} AS portal
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY gateway/supergraph.graphql /src/gateway/supergraph.graphql
COPY web ./
RUN npm run build

# --- runtime: no compilers, no Node, no package manager caches, no root
FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 cers \
 && useradd --system --uid 10001 --gid cers --home-dir /app --shell /usr/sbin/nologin cers
COPY --from=build /opt/venv /opt/venv
COPY --from=build --chown=root:root /src /app
COPY --from=portal --chown=root:root /src/web/dist /app/web/dist
WORKDIR /app
# The root filesystem is read-only in Kubernetes: no bytecode writes, data under a mounted volume.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DATA_DIR=/var/lib/cers \
    BIND_HOST=0.0.0.0 \
    ENVIRONMENT=production \
    DEMO=0 \
    AUTO_MIGRATE=0
RUN install -d -o cers -g cers /var/lib/cers
VOLUME ["/var/lib/cers"]
USER 10001:10001
EXPOSE 8000 8001 8002 8003
CMD ["python", "-m", "gateway"]
