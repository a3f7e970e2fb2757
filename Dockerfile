FROM python:3.11-slim-bookworm
# WeasyPrint renders closure-summary PDFs with Pango.
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core curl postgresql-client \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY server server
COPY models models
COPY calendars calendars
COPY migrations migrations
COPY templates templates
COPY static static
RUN pip install --no-cache-dir .
RUN useradd --system --home /app groupipt && mkdir -p /app/var && chown groupipt /app/var
USER groupipt
ENV GROUPIPT_VAR_DIR=/app/var
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD curl -fsS http://127.0.0.1:8000/healthz || exit 1
CMD ["groupipt", "serve", "--host", "0.0.0.0", "--port", "8000"]
