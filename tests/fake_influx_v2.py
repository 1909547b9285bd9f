"""A fake InfluxDB 2.x write endpoint, for the one boundary that cannot be real here.

Only InfluxDB 1.6 is installed on the machines this suite runs on, and it has no
`/api/v2/write`: the path the recorder takes for InfluxDB 2.x and 3.x (through influxdb-client)
is tested against this fake, which records each request and answers what the test asks for.
What a real 2.x/3.x server does beyond that (token scopes, DBRP mappings for InfluxQL, bucket
retention) is not tested here; docs/recorder.md says so.
"""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True, slots=True)
class Request:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    @property
    def lines(self) -> list[str]:
        return self.body.decode().split("\n") if self.body else []


VERSION = "v2.7.12"


def accept_all(_request: Request) -> int:
    return 204


@dataclass
class FakeInfluxV2:
    url: str
    answer: Callable[[Request], int] = accept_all
    requests: list[Request] = field(default_factory=list)

    @property
    def written(self) -> list[str]:
        """Every line of every write answered 204."""
        return [line for r in self.requests if r.query.get("_status") == "204" for line in r.lines]


@contextmanager
def fake_influx_v2(answer: Callable[[Request], int] = accept_all) -> Iterator[FakeInfluxV2]:
    """A fake InfluxDB 2.x on a free port of 127.0.0.1, for the duration of the block."""
    fake = FakeInfluxV2(url="", answer=answer)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # /ping, as InfluxDB 2.7 answers it
            self.send_response(204)
            self.send_header("X-Influxdb-Version", VERSION)
            self.end_headers()

        def do_POST(self) -> None:
            parsed = urllib.parse.urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            request = Request(
                path=parsed.path,
                query=dict(urllib.parse.parse_qsl(parsed.query)),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            status = fake.answer(request)
            request.query["_status"] = str(status)
            fake.requests.append(request)
            self.send_response(status)
            if status == 204:
                self.end_headers()
                return
            message = b'{"code":"invalid","message":"fake refusal %d"}' % status
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(message)))
            self.end_headers()
            self.wfile.write(message)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
