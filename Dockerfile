# syntax=docker/dockerfile:1.7
# Multi-stage: build a wheel and its dependencies in a full image, run on a slim one as non-root.

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY hub ./hub
COPY schema ./schema
COPY connectors ./connectors
RUN python -m venv /opt/hub \
 && /opt/hub/bin/pip install --upgrade pip \
 && /opt/hub/bin/pip install .

FROM python:3.11-slim AS runtime
ENV PATH=/opt/hub/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HUB_HOST=0.0.0.0 \
    HUB_PORT=8000 \
    HUB_DATABASE_URL=sqlite+aiosqlite:////data/entraide-hub.db
RUN groupadd --system hub && useradd --system --gid hub --home-dir /data hub \
 && mkdir -p /data && chown hub:hub /data
COPY --from=build /opt/hub /opt/hub
USER hub
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD python -c "import os, sys, urllib.request; url = 'http://127.0.0.1:%s/healthz' % os.environ.get('HUB_PORT', '8000'); sys.exit(0 if urllib.request.urlopen(url, timeout=2).status == 200 else 1)"
ENTRYPOINT ["entraide-hub"]
CMD ["serve"]
