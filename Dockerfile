FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY discovery ./discovery
COPY indexer ./indexer
COPY models ./models
COPY search_ui ./search_ui
RUN pip install --no-cache-dir .
RUN useradd --system --create-home discovery && mkdir -p /data && chown discovery /data
USER discovery
EXPOSE 8000
CMD ["discovery", "serve", "--host", "0.0.0.0", "--port", "8000"]
