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
WORKDIR /data
# The knowledge base is baked into the wheel; mount a directory and set
# BRIEFBOT_KNOWLEDGE_DIR to serve a curated copy instead.
VOLUME ["/data"]
EXPOSE 3000
# The health check expects Slack HTTP mode (no SLACK_APP_TOKEN); `briefbot run` with a
# health server for every mode is the deploy issue's work.
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4)"
CMD ["briefbot", "slack", "--db", "/data/briefbot.sqlite3"]
