"""The transport both shells share, below them and above the analytics: connecting to the MQTT
broker (credentials, TLS, a last will, jittered reconnects), its errors, retry backoff, and the
configuration every section builds on.

    analytics  <-  transport  <-  {sensor_gateway, dashboards}  <-  posture (the command line)

Its modules are imported by name (`transport.mqtt`, `transport.acks`, `transport.backoff`,
`transport.settings`, `transport.lazy`), so that using one loads only what it needs.
"""
