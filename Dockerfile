# syntax=docker/dockerfile:1
#
#   docker build -t backoffice .
#   docker run -p 8000:8000 -e DATABASE_URL=postgresql://... -e BACKOFFICE_JWT_SECRET=... backoffice
#
# The project is installed editable: app/db/migrations.py finds the Alembic scripts at
# Path(__file__).resolve().parents[2] / "migrations", i.e. next to app/ in the source tree, and a
# plain `pip install .` would not carry migrations/ along. So the source tree lives at
# /srv/backoffice and the venv at /opt/venv in both stages: the editable install records these
# absolute paths, and the final stage copies both to exactly the same places.
#
# pgserver (the embedded development database, imported by the CLI) publishes Linux wheels for
# x86-64 only: on an ARM host build with `docker build --platform linux/amd64 -t backoffice .`.

ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS builder

ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH

RUN python -m venv /opt/venv

WORKDIR /srv/backoffice
# README.md is the package's readme in pyproject.toml: the build needs it.
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
COPY openapi ./openapi

# chmod: COPY keeps the build context's file modes, and the app runs as another user.
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install --editable . \
 && python -m compileall -q app migrations \
 && chmod -R a+rX /srv/backoffice

# Fail the build if the installed package would not find its migrations (checked from outside
# the source tree, so the import goes through the editable install, not the working directory).
RUN cd / && python -c "from pathlib import Path; from app.db.migrations import MIGRATIONS_DIR as m; \
assert m == Path('/srv/backoffice/migrations') and (m / 'env.py').is_file(), m"


FROM ${PYTHON_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    BACKOFFICE_ENVIRONMENT=production

RUN groupadd --system --gid 10001 backoffice \
 && useradd --system --uid 10001 --gid backoffice --home-dir /home/backoffice --create-home \
        --shell /usr/sbin/nologin backoffice

COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /srv/backoffice /srv/backoffice

WORKDIR /srv/backoffice
USER backoffice:backoffice

EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

# `serve` migrates the database first. Production settings need DATABASE_URL and
# BACKOFFICE_JWT_SECRET (or BACKOFFICE_JWT_PRIVATE_KEY); without them it exits with one line.
CMD ["backoffice", "serve", "--host", "0.0.0.0", "--port", "8000"]
