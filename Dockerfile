# The survey web app: slim Python, non-root user; the start command migrates, then serves with uvicorn.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATABASE_URL=sqlite:////app/var/survey.db \
    STATIC_DIR=/app/static

WORKDIR /app
RUN useradd --create-home --uid 10001 survey

COPY pyproject.toml README.md ./
COPY survey_app ./survey_app
COPY questionnaires ./questionnaires
COPY sampling ./sampling
COPY analysis ./analysis
COPY static ./static
RUN pip install --no-cache-dir . && mkdir -p /app/var && chown survey:survey /app/var

USER survey
EXPOSE 8000
CMD ["survey", "serve", "--host", "0.0.0.0", "--port", "8000"]
