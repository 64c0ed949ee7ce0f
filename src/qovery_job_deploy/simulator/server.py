"""The simulator over real sockets: an HTTP server on loopback that also plays the wire faults (an answer
delayed, trickled byte by byte, cut short of its Content-Length, or a connection that hangs).

`serve(sim)` starts it for any simulator that answers one request at a time (`Handles`: the model,
`model.QoverySimulator`, which holds no socket and does not know this module).
"""

from __future__ import annotations

import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from qovery_job_deploy.simulator.routes import Answer


class Handles(Protocol):
    """A simulator: one answer per request, and the base URL it is reached at."""

    url: str

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes
    ) -> Answer: ...


def serve(
    sim: Handles, *, host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None
) -> SimulatorServer:
    """`sim` served over HTTP (HTTPS with `tls`) on `host`:`port` (0: a free one), started; its `url`
    becomes the server's. Stop it with `stop()`, or use it as a context manager."""
    server = SimulatorServer(sim, host, port, tls).start()
    sim.url = server.url
    return server


class SimulatorServer:
    def __init__(self, sim: Handles, host: str, port: int, tls: ssl.SSLContext | None) -> None:
        self._server = ThreadingHTTPServer((host, port), _handler_for(sim))
        self._server.daemon_threads = True
        self._scheme = "http"
        if tls is not None:  # HTTPS, for the tests of custom CA bundles
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
            self._scheme = "https"
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{self._scheme}://{host!s}:{port}"

    def start(self) -> SimulatorServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="qovery-simulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> SimulatorServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _handler_for(sim: Handles) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read `exchanges`
            return

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_PATCH(self) -> None:  # a simulator of another API than Qovery's (the tests' fake GitHub)
            self._serve("PATCH")

        def do_DELETE(self) -> None:  # a preview's environment
            self._serve("DELETE")

        def _serve(self, method: str) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            answer = sim.handle(method, split.path, parse_qs(split.query), dict(self.headers.items()), body)
            wire = answer.wire
            if wire is not None and wire.kind == "hang":  # nothing done, nothing answered
                time.sleep(wire.seconds)
                self._hang_up()
                return
            if answer.status == 0:  # reset: close without a word
                self._hang_up()
                return
            if wire is not None and wire.kind == "delay":
                time.sleep(wire.seconds)
            self._send(answer)

        def _send(self, answer: Answer) -> None:
            wire = answer.wire
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            short = wire is not None and wire.kind == "short"
            self.send_header("Content-Length", str(len(answer.body) + (10 if short else 0)))
            self.end_headers()
            if wire is not None and wire.kind == "trickle":
                for index in range(len(answer.body)):
                    self.wfile.write(answer.body[index : index + 1])
                    self.wfile.flush()
                    time.sleep(wire.seconds)
            else:
                self.wfile.write(answer.body)
            if short:  # fewer bytes than promised, then hang up
                self.wfile.flush()
                self._hang_up()

        def _hang_up(self) -> None:
            self.close_connection = True
            self.connection.shutdown(2)

    return Handler
