#!/bin/bash
# Runs once, after the influxdb image has set up the org, the bucket and the admin token
# (DOCKER_INFLUXDB_INIT_*), with the influx CLI already configured for them.
set -euo pipefail

# InfluxQL (the Grafana dashboards, `posture report`) reads the bucket as database "posture",
# retention policy "autogen".
influx v1 dbrp create \
    --db "${DOCKER_INFLUXDB_INIT_BUCKET}" \
    --rp autogen \
    --bucket-id "${DOCKER_INFLUXDB_INIT_BUCKET_ID}" \
    --default

# Grafana reads through a v1-compatible user that can only read the bucket.
influx v1 auth create \
    --username "${INFLUX_GRAFANA_USER}" \
    --password "${INFLUX_GRAFANA_PASSWORD}" \
    --read-bucket "${DOCKER_INFLUXDB_INIT_BUCKET_ID}"

# The recorder writes through a v1-compatible user that can only write the bucket: it reads
# nothing, and cannot delete or change anything.
influx v1 auth create \
    --username "${INFLUX_RECORDER_USER}" \
    --password "${INFLUX_RECORDER_PASSWORD}" \
    --write-bucket "${DOCKER_INFLUXDB_INIT_BUCKET_ID}"
