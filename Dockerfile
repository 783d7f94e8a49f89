# One image for api, worker and simulator; the command picks the process.
FROM python:3.12-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1
COPY pyproject.toml README.md requirements.lock ./
COPY api api
COPY db db
COPY workflows workflows
COPY activities activities
COPY simulator simulator
RUN pip install --no-cache-dir --require-hashes -r requirements.lock \
    && pip install --no-cache-dir --no-deps .
EXPOSE 8000 8300
CMD ["tgflows", "api"]
