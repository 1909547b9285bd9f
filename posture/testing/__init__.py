"""The harness the demo, the tests and the benchmarks run the product with, shipped so that
anyone can reproduce what they measure:

- `servers.py`: private mosquitto and influxd processes on free ports (`posture servers`);
- `loadgen.py`: contract-shaped MQTT traffic of a fleet, published at QoS 1;
- `datasets.py`: the labelled public recordings, with a label per second;
- `pipeline.py`: traces through the edge analytics, MQTT and the recorder in one process;
- `recorder_process.py`: `posture recorder` as a process of its own.

The recorder in a thread of this process is `dashboards.recorder.RecorderThread` (`posture run`
uses it too).
"""
