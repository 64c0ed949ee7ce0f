"""Simulated jobs and simulators for the tests.

A simulator is reached in-process by default: `run_step` finds it by its URL and runs the step in this
process on a virtual clock, through the real client, engine and report writers, with a `requests`
transport adapter in place of the network. A served one (`served_simulator`) listens on 127.0.0.1 for the
tests where the boundary is the point: signals, stdout, TLS, DNS, proxies, the wire and real deadlines.
"""

from __future__ import annotations

import json
import ssl
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from qovery_job_deploy.clock import VirtualClock
from qovery_job_deploy.simulator import JobScript, QoverySimulator, SimulatorServer, serve
from qovery_job_deploy.simulator.routes import Answer, route
from support.contract import validate

TOKEN = "qov_TestTokenNeverToBeShown0123456789"

FAST = "0.2s"  # poll interval for tests: scripted deployments last about a second
DEFAULT_TIMELINE = ((0.0, "QUEUED"), (0.3, "EXECUTING"), (0.8, "DEPLOYED"))

SimFactory = Callable[..., QoverySimulator]

# In-process simulators by URL, each with the virtual clock its timelines run on.
IN_PROCESS: dict[str, tuple[QoverySimulator, VirtualClock]] = {}
# Servers of served simulators by URL: the step runs against them as a process.
SERVED: dict[str, SimulatorServer] = {}


def job(*timeline: tuple[float, str], **options: Any) -> JobScript:
    """A job with a fresh id; a short successful timeline unless one is given (as arguments or `timeline=`)."""
    options.setdefault("timeline", list(timeline or DEFAULT_TIMELINE))
    return JobScript(str(uuid.uuid4()), **options)


def default_url(script: JobScript) -> str:
    """The simulator's default link for a service: its name on a Qovery domain."""
    return f"https://{script.job_name}-{script.job_id[:8]}.qovery.example"


def in_process(*jobs: JobScript, **options: Any) -> QoverySimulator:
    """A simulator that only the in-process transport reaches, on a virtual clock of its own."""
    clock = VirtualClock()
    sim = QoverySimulator(list(jobs) or None, validator=validate, clock=clock.now, wall=clock.now, **options)
    IN_PROCESS[sim.url] = (sim, clock)
    return sim


def served(*jobs: JobScript, tls: ssl.SSLContext | None = None, **options: Any) -> QoverySimulator:
    """A simulator on 127.0.0.1 (HTTPS with `tls`), in real time."""
    sim = QoverySimulator(list(jobs) or None, validator=validate, clock=time.monotonic, **options)
    SERVED[sim.url] = serve(sim, tls=tls)
    return sim


def finish(sim: QoverySimulator) -> None:
    """Stop it; any exchange that broke the OpenAPI contract (beyond `allowed_deviations`) fails the test."""
    server = SERVED.pop(sim.url, None)
    if server is not None:
        server.stop()
    IN_PROCESS.pop(sim.url, None)
    unexpected = sim.unexpected_contract_errors()
    assert not unexpected, "simulator exchanges broke the OpenAPI contract:\n" + "\n".join(unexpected)


def answered(sim: QoverySimulator, method: str, path: str, query: str = "", body: bytes = b"") -> Answer:
    """What `sim` answers a request of someone else's, sent now (its clock's now), with the token."""
    headers = {"Authorization": f"Token {TOKEN}"} | ({"Content-Type": "application/json"} if body else {})
    return sim.handle(method, path, parse_qs(query), headers, body)


def deploy_now(sim: QoverySimulator, script: JobScript, query: str = "", **body: str) -> str:
    """Someone else's deploy request for `script`, sent to `sim` now (its clock's now): the id Qovery gave.
    `body`: what it deploys (`image_tag=...`), for a kind whose request must say it."""
    sent = json.dumps(body).encode() if body else b""
    answer = answered(sim, "POST", f"/{script.kind}/{script.job_id}/deploy", query, sent)
    assert answer.status == 202, answer.body
    request_id: str = json.loads(answer.body)["deployment_request_id"]
    return request_id


def requests_by_operation(sim: QoverySimulator) -> dict[str, int]:
    """How many requests of each operation (`status`, `service`, `history`, `deploy`...) the simulator
    received: the read budget of a run, by kind."""
    counts: dict[str, int] = {}
    for exchange in sim.exchanges:
        operation = route(exchange.method, exchange.path).operation
        counts[operation] = counts.get(operation, 0) + 1
    return counts
