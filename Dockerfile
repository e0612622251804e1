# The suspects API service. Build: docker build -t suspects .
# Its Elasticsearch is 8.17.4 (docker-compose.yml; the tests' harness runs the same version), and the
# Python client's major, 8, matches it.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY indexer ./indexer
COPY search ./search
COPY api ./api
COPY mappings ./mappings
RUN pip install --no-cache-dir -e . && useradd --system suspects && mkdir -p var && chown suspects var
USER suspects
ENV SUSPECTS_HOST=0.0.0.0 SUSPECTS_PORT=8000
EXPOSE 8000
CMD ["suspects", "serve"]
