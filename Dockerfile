# One image for api, worker and simulator; the command picks the process.
# Build stage: the web console, bundled by Vite (no CDN at run time).
FROM node:20-slim AS console
WORKDIR /frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend ./
RUN npm run build

FROM python:3.12-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 TGFLOWS_CONSOLE_DIR=/app/console
COPY pyproject.toml README.md requirements.lock ./
COPY api api
COPY db db
COPY workflows workflows
COPY activities activities
COPY simulator simulator
COPY tgflows tgflows
RUN pip install --no-cache-dir --require-hashes -r requirements.lock \
    && pip install --no-cache-dir --no-deps .
COPY --from=console /frontend/dist console
EXPOSE 8000 8300
CMD ["tgflows", "api"]
