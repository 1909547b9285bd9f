# The posture-monitor image for the recorder and the gateway services of docker-compose.yml.
FROM python:3.12.8-slim-bookworm

RUN useradd --system --uid 1000 --home-dir /app posture
WORKDIR /app
COPY pyproject.toml README.md ./
COPY analytics analytics
COPY sensor_gateway sensor_gateway
COPY dashboards dashboards
COPY posture posture
RUN pip install --no-cache-dir . && posture --help > /dev/null

USER posture
CMD ["posture", "--help"]
