# wagate for production: `docker compose up` (compose.yaml) runs it beside PostgreSQL and Redis.
# Build: docker build -t wagate .   Lint: hadolint Dockerfile (tests/unit/test_container_files.py).

FROM python:3.12-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
# Only what serving needs: no development extras in the image.
RUN python -m venv /opt/wagate \
    && /opt/wagate/bin/pip install --no-cache-dir --disable-pip-version-check .

FROM python:3.12-slim-bookworm
RUN useradd --system --uid 10001 --home-dir /var/lib/wagate --create-home wagate
COPY --from=build /opt/wagate /opt/wagate
ENV PATH=/opt/wagate/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    WAGATE_HOST=0.0.0.0 \
    WAGATE_PORT=8080 \
    WAGATE_DATA_DIR=/var/lib/wagate \
    WAGATE_SANDBOX=0
USER 10001
WORKDIR /var/lib/wagate
VOLUME ["/var/lib/wagate"]
EXPOSE 8080
# Ready means the database answers and writes succeed (GET /readyz), not merely that the port is open.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/readyz', timeout=2).status != 200)"]
# `wagate serve` applies pending migrations before it listens.
CMD ["wagate", "serve"]
