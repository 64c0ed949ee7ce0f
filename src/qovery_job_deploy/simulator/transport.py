"""The simulator in-process: a `requests` transport adapter (the role httpx's `MockTransport` plays), for
any simulator that answers one request at a time (`server.Handles`: the model, or the tests' fake GitHub).

The client sends through it exactly as through the network: the same session, headers, JSON and status
handling, and the same contract check of every exchange. Only wire faults are imitated, on the caller's
virtual clock: a hang or delay longer than the read timeout ends in `ReadTimeout` after that timeout, a
reset in the `ConnectionError` urllib3 raises for it. Faults that need a real socket (a trickled answer, one
cut short of its Content-Length) are for the HTTP server.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from http.client import RemoteDisconnected
from io import BytesIO
from urllib.parse import parse_qs, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import ProtocolError

from qovery_job_deploy.simulator.server import Handles


class SimulatorAdapter(BaseAdapter):
    def __init__(self, sim: Handles, sleep: Callable[[float], None]) -> None:
        super().__init__()
        self._sim = sim
        self._sleep = sleep  # the virtual clock's: time passes for the caller, nobody waits

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        split = urlsplit(request.url or "")
        body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
        headers = dict(request.headers.items())
        answer = self._sim.handle(request.method or "GET", split.path, parse_qs(split.query), headers, body)
        read_timeout = timeout[1] if isinstance(timeout, tuple) else timeout
        wire = answer.wire
        if wire is not None and wire.kind in ("hang", "delay"):
            if read_timeout is not None and wire.seconds >= read_timeout:
                self._sleep(read_timeout)
                raise requests.ReadTimeout(f"read timed out ({read_timeout}s)", request=request)
            self._sleep(wire.seconds)
        if answer.status == 0 or (wire is not None and wire.kind == "hang"):
            cause = ProtocolError("Connection aborted.", RemoteDisconnected("Remote end closed connection"))
            raise requests.ConnectionError(cause, request=request)
        if wire is not None and wire.kind in ("short", "trickle"):
            raise NotImplementedError(f"the {wire.kind!r} fault needs the HTTP server: start() the simulator")
        return _response(request, answer.status, answer.headers, answer.body)

    def close(self) -> None:
        return


def _response(
    request: requests.PreparedRequest, status: int, headers: dict[str, str], body: bytes
) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.headers = CaseInsensitiveDict({**headers, "Content-Length": str(len(body))})
    response.raw = BytesIO(body)
    response.url = request.url or ""
    response.request = request
    response.reason = ""
    response.encoding = requests.utils.get_encoding_from_headers(response.headers)
    return response
