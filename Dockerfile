# The survey web app in two stages: the first installs it with its dependencies into a virtual environment, the
# second copies only that environment onto a clean slim Python (no pip cache, no build files, no test folders
# of the libraries). Non-root user; the start command migrates, then serves with uvicorn. /app/var (the SQLite
# database, the generated SECRET_KEY, sessions, export files) is a volume: keep it across upgrades.
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY survey_app ./survey_app
COPY questionnaires ./questionnaires
COPY sampling ./sampling
COPY analysis ./analysis
# The libraries' own test suites (~120 MB) never run here, and pip itself is not needed once installed.
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir . \
    && find /opt/venv/lib -depth -type d -name tests -path '*/site-packages/*/tests' -exec rm -rf {} + \
    && /opt/venv/bin/pip uninstall --yes --quiet pip

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    DATABASE_URL=sqlite:////app/var/survey.db \
    STATIC_DIR=/app/static

WORKDIR /app
RUN useradd --create-home --uid 10001 survey && mkdir -p /app/var && chown survey:survey /app/var
COPY --from=build /opt/venv /opt/venv
COPY static ./static

USER survey
VOLUME ["/app/var"]
EXPOSE 8000
CMD ["survey", "serve", "--host", "0.0.0.0", "--port", "8000"]
