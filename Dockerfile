# One image for api, worker and simulator; the command picks the process.
FROM python:3.12-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1
COPY pyproject.toml README.md ./
COPY api api
COPY db db
COPY workflows workflows
COPY activities activities
COPY simulator simulator
RUN pip install --no-cache-dir .
EXPOSE 8000 8300
CMD ["tgflows", "api"]
