# syntax=docker/dockerfile:1
# Build the wheel in one stage, install only it and its runtime dependencies in the next.
#
# Reproducible: the base image is pinned by version tag and digest (the multi-platform
# manifest list), and every Python package by constraints.txt (`make constraints`). The
# digest was taken from public pins of this tag, not checked against the registry from the
# machine that wrote it; to check or move it: `docker buildx imagetools inspect
# python:3.11.15-slim-bookworm` (the "Digest:" line), then change it here.
ARG PYTHON_IMAGE=python:3.11.15-slim-bookworm@sha256:d29f48a31a8b408ed19272ca1e7b10ebae13b240a27e862d3d4217c528e2e0c3

FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
COPY pyproject.toml README.md constraints.txt ./
COPY bot ./bot
COPY adapters ./adapters
COPY knowledge ./knowledge
# -c pins what the wheel depends on; PIP_CONSTRAINT also reaches the isolated environment
# pip builds briefbot's own wheel in, so the build backend (hatchling) is pinned too.
RUN PIP_CONSTRAINT=/src/constraints.txt \
    pip wheel --no-cache-dir -c constraints.txt --wheel-dir /wheels '.[slack,discord,postgres]'

FROM ${PYTHON_IMAGE}
RUN useradd --create-home --uid 10001 briefbot && mkdir /data && chown briefbot /data
COPY --from=build /wheels /wheels
COPY constraints.txt /tmp/constraints.txt
RUN pip install --no-cache-dir --no-index --find-links /wheels -c /tmp/constraints.txt 'briefbot[slack,discord,postgres]' \
    && rm -rf /wheels /tmp/constraints.txt
USER briefbot
# Validate the baked-in knowledge once, at build time, as the runtime user: its prepared
# engine lands in that user's cache (~/.cache/briefbot), so a start skips parsing and indexing.
RUN briefbot kb check
WORKDIR /data
# The database lives on the /data volume (or on a PostgreSQL server: BRIEFBOT_DB=postgresql://…,
# see docs/deploy.md). The knowledge base is baked into the wheel; to
# serve a curated copy, mount it at /knowledge and set BRIEFBOT_KNOWLEDGE_DIR=/knowledge
# (edits there are picked up live). Secrets come only from the environment (env_file).
# No BRIEFBOT_HEALTH_PORT here: the environment outranks briefbot.toml, and a health.port
# set there (mounted as /data/briefbot.toml, or named by BRIEFBOT_CONFIG) must count.
ENV BRIEFBOT_DB=/data/briefbot.sqlite3 \
    BRIEFBOT_LOG_FORMAT=json \
    PYTHONUNBUFFERED=1
VOLUME ["/data"]
# /healthz and /metrics (health.port, 3000 unless set); in Slack HTTP mode also POST /slack/events.
EXPOSE 3000
# `briefbot health` reads the same settings as `briefbot run` (same working directory, same
# environment), so it asks the port the bot serves on; a 503 or no answer exits 1.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["briefbot", "health"]
# SIGTERM drains answers and the digest post in progress (see compose.yaml's grace period).
STOPSIGNAL SIGTERM
CMD ["briefbot", "run"]
