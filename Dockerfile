# The posture-monitor images for the recorder and the gateway services of docker-compose.yml.
# Each image installs only its role's extra (pyproject.toml), at the versions of the lock file
# deploy/constraints.txt (`./dev lock` regenerates it):
#   docker build --build-arg ROLE=gateway .    bleak and BlueZ's D-Bus client; no matplotlib, scipy
#   docker build --build-arg ROLE=recorder .   influxdb-client
FROM python:3.12.8-slim-bookworm

ARG ROLE=recorder
RUN useradd --system --uid 1000 --home-dir /app posture
WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY deploy/constraints.txt deploy/constraints.txt
COPY analytics analytics
COPY transport transport
COPY sensor_gateway sensor_gateway
COPY dashboards dashboards
COPY posture posture
RUN pip install --no-cache-dir --constraint deploy/constraints.txt ".[${ROLE}]" \
    && posture --help > /dev/null

USER posture
CMD ["posture", "--help"]
