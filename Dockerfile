# syntax=docker/dockerfile:1
# Build: docker build -t gradient-service:0.1.0 .   Run: docker compose up (see README, Container).

# Stage 1: the locked dependencies in a virtual environment (every wheel checked against its hash).
FROM python:3.11.14-slim-bookworm AS build
HEALTHCHECK NONE
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY requirements.lock /tmp/requirements.lock
RUN /opt/venv/bin/pip install --require-hashes --only-binary=:all: -r /tmp/requirements.lock
WORKDIR /app
COPY service ./service
RUN /opt/venv/bin/python -m compileall -q /app/service

# Stage 2: the runtime: no pip cache, no build files, a non-root user, a read-only-friendly layout.
FROM python:3.11.14-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    GRADIENT_HOST=0.0.0.0 \
    GRADIENT_PORT=8000 \
    GRADIENT_DATA_DIR=/data
# /data: datasets, training jobs and their checkpoints (a volume: the root filesystem is read-only in compose and Kubernetes)
RUN groupadd --system --gid 10001 app && useradd --system --uid 10001 --gid app --no-create-home --shell /usr/sbin/nologin app \
    && mkdir /data && chown 10001:10001 /data
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
WORKDIR /app
USER 10001:10001
EXPOSE 8000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["python", "-c", "import os, sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:%s/livez' % os.environ.get('GRADIENT_PORT', '8000'), timeout=2).status != 200)"]
CMD ["python", "-m", "service.cli"]
