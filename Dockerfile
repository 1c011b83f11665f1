# syntax=docker/dockerfile:1
# Build the wheel in one stage, install only it and its runtime dependencies in the next.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY adapters ./adapters
COPY knowledge ./knowledge
RUN pip wheel --no-cache-dir --wheel-dir /wheels '.[slack,discord]'

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 briefbot && mkdir /data && chown briefbot /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels 'briefbot[slack,discord]' && rm -rf /wheels
USER briefbot
# Validate the baked-in knowledge once, at build time, as the runtime user: its prepared
# engine lands in that user's cache (~/.cache/briefbot), so a start skips parsing and indexing.
RUN briefbot kb check
WORKDIR /data
# The database lives on the /data volume. The knowledge base is baked into the wheel; to
# serve a curated copy, mount it at /knowledge and set BRIEFBOT_KNOWLEDGE_DIR=/knowledge
# (edits there are picked up live). Secrets come only from the environment (env_file).
ENV BRIEFBOT_DB=/data/briefbot.sqlite3 \
    BRIEFBOT_HEALTH_PORT=3000 \
    BRIEFBOT_LOG_FORMAT=json \
    PYTHONUNBUFFERED=1
VOLUME ["/data"]
# /healthz and /metrics; in Slack HTTP mode also POST /slack/events.
EXPOSE 3000
# No curl in slim images: the interpreter is there anyway. Non-2xx (503) raises, so fails.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('BRIEFBOT_HEALTH_PORT', '3000') + '/healthz', timeout=4)"]
# SIGTERM drains answers and the digest post in progress (see compose.yaml's grace period).
STOPSIGNAL SIGTERM
CMD ["briefbot", "run"]
