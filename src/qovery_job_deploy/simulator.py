"""A Qovery API simulator: a real HTTP server on 127.0.0.1 that plays scripted job deployments.

It serves the few operations the step uses, shaped as Qovery's published OpenAPI spec says (the test suite
validates every request and response against that spec through the `validator` hook). Scripts cover what
real Qovery does that naive clients get wrong: the status still showing the previous deployment right
after the POST, a newer request taking over the job's status the moment ours ends, states a newer API may
add, and faults (429 with Retry-After, 5xx, a POST that fails after acting).

Run it alone with `python -m qovery_job_deploy.simulator [--port 8080] [--url-file FILE] [--quiet]`: it
prints its jobs and the QOVERY_API_URL to set, then logs one line per request (method, path, status) on
stderr. Any token starting with `qov_` (or a three-part JWT) is accepted. In the test suite it is silent.
"""

from __future__ import annotations

import argparse
import json
import signal
import ssl
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any, TextIO
from urllib.parse import parse_qs, urlsplit

from qovery_job_deploy.text import one_line

SUCCESS_JOB = "11111111-1111-4111-8111-111111111111"
FAILURE_JOB = "22222222-2222-4222-8222-222222222222"
SLOW_JOB = "33333333-3333-4333-8333-333333333333"
# The built-in jobs share one environment, production in acme / shop, so that they can be named too.
DEMO_ENVIRONMENT = "e1e1e1e1-0000-4000-8000-0000000000d0"
# Fails, and its deployment log holds lines written to attack the CI runner (for tests/e2e under act).
HOSTILE_LOG_JOB = "77777777-7777-4777-8777-777777777777"
HOSTILE_LOG_LINES = [
    "::add-mask::DEPLOYED",
    "::error::pwned by the deployment log",
    "##[error]pwned by a legacy command",
    "::stop-commands::guessed",
    "\x1b[31mcoloured\x1b[0m output",
    "</details></pre><script>alert(1)</script>",
    "y" * 100_000,
]


TRANSPORT_FAULTS = ("delay", "short", "trickle")
QUEUED_STATES = ("QUEUED", "DEPLOYMENT_QUEUED")
NAME_OPERATIONS = (
    "organizations",
    "projects",
    "environments",
    "environment_jobs",
    "environment_job_statuses",
)
CREATED_AT = "2026-01-01T00:00:00Z"
# Another service of every job's environment: its lines and its error share the environment's log.
OTHER_SERVICE_ID = "44444444-4444-4444-8444-444444444444"
# Qovery's own diagnosis on a failed job's last log entry (the `error` object of `EnvironmentLogs`).
DEFAULT_ERROR: dict[str, str] = {
    "tag": "JOB_FAILURE",
    "user_log_message": "The job exited with code 1 before completing.",
    "hint_message": "Check the job's output above; a lifecycle job must exit with code 0.",
    "link": "https://hub.qovery.com/docs/using-qovery/troubleshoot/",
}


@dataclass
class Fault:
    """One injected misbehaviour, consumed by the next matching call.

    kind: "http" (answer `status` with `body`/`headers`), "reset" (close the connection unanswered),
    "hang" (read the request, do nothing for `seconds`, then close unanswered: a gateway that never
    passed it on), "truncated" (a 200 whose JSON is cut short), and transport faults, where the work
    is done and the normal answer then misbehaves on the wire: "delay" (sent after `seconds`), "short"
    (fewer bytes than its Content-Length, then the connection closes), "trickle" (one byte every
    `seconds`).
    `acted`: for a POST, whether the deployment is created before an "http" or "reset" fault strikes
    (transport faults always act). In a job's fault queue, `None` lets one call through untouched.
    """

    kind: str = "http"
    status: int = 500
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    acted: bool = False
    # For "http": also send `Retry-After` as an HTTP date this many seconds after the answer is sent.
    retry_after_date_in: float | None = None


@dataclass
class JobScript:
    """How one job behaves. Timeline offsets are seconds after the deploy request was accepted."""

    job_id: str
    timeline: list[tuple[float, str]] = field(
        default_factory=lambda: [(0.0, "QUEUED"), (0.3, "DEPLOYING"), (0.6, "EXECUTING"), (1.0, "DEPLOYED")]
    )
    # Right after a POST, the job's status keeps describing the previous request for this long.
    stale_seconds: float = 0.0
    # While stale, the status does not count the new request either: only the deployment queue shows it.
    stale_hides_count: bool = False
    # When our request ends, a newer one (someone else's) takes over the job's status at once.
    taken_over: bool = False
    previous_state: str = "DEPLOYED"
    previous_request_id: str | None = field(default_factory=lambda: str(uuid.uuid4()))
    environment_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    # Per operation ("deploy", "status", "request_status", "history", "queue", "job", "environment",
    # "logs"): faults to play in order.
    faults: dict[str, deque[Fault | None]] = field(default_factory=dict)
    # Merged into every status body: fields and enum values of a newer API.
    extra_status_fields: dict[str, Any] = field(default_factory=dict)
    # The deploy answer's deployment_request_id is null (the spec allows it).
    deploy_answer_without_id: bool = False
    # The POST is accepted but deploys nothing (the API's words for a job that lacks the forced event).
    accepts_without_deploying: bool = False
    # Optional fields (execution_id, steps, ...) left out of every status body.
    omitted_fields: tuple[str, ...] = ()
    # `status_details.status` once the deployment has ended (default: ERROR for a failure, else SUCCESS).
    final_action_status: str | None = None
    # The `steps.details` of the ended deployment, when a test wants its own (hostile strings, ...).
    final_steps: list[dict[str, Any]] | None = None
    past_durations: list[int] = field(default_factory=list)
    about: str = ""  # what the job does, for people (the simulator's CLI lists its jobs)
    # What GET /job/{id}, GET /environment/{id} and the name lookups tell (names, ids of console links).
    job_name: str = "migrate"
    environment_name: str = "production"
    project_id: str = "5e0f1a2b-0000-4000-8000-00000000beef"
    organization_id: str = "0a0b0c0d-0000-4000-8000-000000000001"
    # Lines the job prints, in its deployment log between the state lines (hostile ones, for tests).
    log_lines: list[str] = field(default_factory=list)
    # Qovery's `error` object on the last entry of a failed deployment's log.
    log_error: dict[str, str] | None = field(default_factory=lambda: dict(DEFAULT_ERROR))


@dataclass(frozen=True)
class Place:
    """An environment and what it belongs to, for the name lookups (`GET /organization`, ...)."""

    environment_id: str
    environment_name: str = "production"
    project_id: str = "5e0f1a2b-0000-4000-8000-00000000beef"
    project_name: str = "shop"
    organization_id: str = "0a0b0c0d-0000-4000-8000-000000000001"
    organization_name: str = "acme"


@dataclass
class DeploymentRequest:
    id: str
    job_id: str
    created_at: float
    timeline: list[tuple[float, str]]
    execution_id: str = field(default_factory=lambda: f"exec-{uuid.uuid4().hex[:12]}")
    canceled_at: float | None = None

    def state_at(self, now: float) -> str:
        if self.canceled_at is not None and now >= self.canceled_at:
            return "CANCELED"
        elapsed = now - self.created_at
        state = "QUEUED"
        for offset, name in self.timeline:
            if elapsed >= offset:
                state = name
        return state

    def ends_at(self) -> float:
        natural_end = self.created_at + self.timeline[-1][0]
        return natural_end if self.canceled_at is None else min(natural_end, self.canceled_at)


@dataclass
class Exchange:
    """One request and its answer, as seen on the wire (for contract validation and assertions)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    status: int = 0
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: bytes = b""
    received_at: float = field(default_factory=time.time)  # wall clock, for the benchmark


def token_is_valid(authorization: str) -> bool:
    scheme, _, token = authorization.partition(" ")
    if scheme == "Token":
        return token.startswith("qov_")
    if scheme == "Bearer":
        return token.count(".") == 2 and all(token.split("."))
    return False


class QoverySimulator:
    """Thread-safe simulated Qovery. Use as a context manager, or `start()` / `stop()`."""

    def __init__(
        self,
        jobs: list[JobScript] | None = None,
        *,
        validator: Callable[[Exchange], list[str]] | None = None,
        clock: Callable[[], float] = time.monotonic,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: ssl.SSLContext | None = None,
        places: list[Place] | None = None,
        log: TextIO | None = None,
    ) -> None:
        self.jobs = {job.job_id: job for job in jobs or builtin_jobs()}
        self.log = log  # one line per request when set (the CLI); tests read `exchanges` instead
        # Every job's environment exists; one not declared is the job's own (in acme / shop).
        self.places = {place.environment_id: place for place in places or ()}
        for job in self.jobs.values():
            self.places.setdefault(
                job.environment_id,
                Place(
                    job.environment_id,
                    job.environment_name,
                    job.project_id,
                    organization_id=job.organization_id,
                ),
            )
        self.requests: dict[str, DeploymentRequest] = {}
        self.exchanges: list[Exchange] = []
        self.contract_errors: list[str] = []
        self.validator = validator
        self.clock = clock
        self.lock = threading.Lock()
        self.terminal_at: dict[str, float] = {}  # request id -> wall time (time.time) it turned terminal
        # Faults of calls that concern no single job (the name lookups, environment-wide statuses).
        self.faults: dict[str, deque[Fault | None]] = {}
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))
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

    def start(self) -> QoverySimulator:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="qovery-simulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> QoverySimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def log_exchange(self, method: str, path: str, status: int) -> None:
        if self.log is None:
            return
        answer = str(status) if status else "connection reset"
        stamp = time.strftime("%H:%M:%S")
        with self.lock:
            self.log.write(f"{stamp} {method} {one_line(path, 300)} -> {answer}\n")
            self.log.flush()

    # -- queries for tests ----------------------------------------------------------------------------

    def deployments_of(self, job_id: str) -> list[DeploymentRequest]:
        with self.lock:
            return [r for r in self.requests.values() if r.job_id == job_id]

    def calls(self, operation: str) -> int:
        with self.lock:
            return sum(
                1 for exchange in self.exchanges if _operation(exchange.method, exchange.path)[0] == operation
            )

    # -- the API's behaviour ----------------------------------------------------------------------------

    def status_body(self, job: JobScript, now: float) -> dict[str, Any]:
        ours = self._latest(job.job_id)
        count = len(self.deployments_of_unlocked(job.job_id))
        if ours is None or now - ours.created_at < job.stale_seconds:
            if ours is not None and job.stale_hides_count:
                count -= 1
            body = _status(job.job_id, job.previous_state, job.previous_request_id, count, None, "SUCCESS")
            if job.past_durations and "steps" not in job.omitted_fields:  # the last run's figures
                last = job.past_durations[-1]
                body["steps"] = {
                    "total_duration_sec": last,
                    "total_computing_duration_sec": last,
                    "details": [],
                }
            if job.previous_request_id is None:
                body |= {"service_deployment_status": "NEVER_DEPLOYED", "state": "READY"}
                body["status_details"]["status"] = "NEVER"
            return body
        state = ours.state_at(now)
        if job.taken_over and now >= ours.ends_at():
            newer = f"{ours.id[:-12]}{'f' * 12}"  # someone else's request, queued right behind ours
            return _status(job.job_id, "QUEUED", newer, count + 1, None, "QUEUED")
        ended = now >= ours.ends_at()
        details_status = "ONGOING"
        if ended:
            details_status = job.final_action_status or ("ERROR" if _is_failure(state) else "SUCCESS")
        body = _status(job.job_id, state, ours.id, count, ours.execution_id, details_status)
        body.update(job.extra_status_fields)
        if ended and "steps" not in job.omitted_fields:
            body["steps"] = {
                "total_duration_sec": int(ours.timeline[-1][0]),
                "total_computing_duration_sec": int(ours.timeline[-1][0]),
                "details": job.final_steps
                if job.final_steps is not None
                else [
                    {"step_name": "DEPLOYMENT_QUEUEING", "status": "SUCCESS", "duration_sec": 0},
                    {
                        "step_name": "EXECUTING",
                        "status": "ERROR" if _is_failure(state) else "SUCCESS",
                        "duration_sec": int(ours.timeline[-1][0]),
                    },
                ],
            }
        return body

    def deploy(self, job: JobScript, now: float) -> dict[str, Any]:
        if job.accepts_without_deploying:
            count = len(self.deployments_of_unlocked(job.job_id))
            return _status(job.job_id, job.previous_state, None, count, None, "SUCCESS")
        request = DeploymentRequest(str(uuid.uuid4()), job.job_id, now, list(job.timeline))
        self.requests[request.id] = request
        self.terminal_at[request.id] = time.time() + job.timeline[-1][0]
        count = len(self.deployments_of_unlocked(job.job_id))
        answer_id = None if job.deploy_answer_without_id else request.id
        return _status(job.job_id, "QUEUED", answer_id, count, None, "QUEUED")

    def names_body(self, operation: str, path_id: str | None, now: float) -> dict[str, Any] | None:
        """The lists behind names: organizations, projects, environments, an environment's jobs and their
        statuses. None when the id in the path is unknown."""
        places = list(self.places.values())
        if operation == "organizations":
            unique = {place.organization_id: place for place in places}
            return {"results": [_organization(place) for place in unique.values()]}
        if operation == "projects":
            mine = {p.project_id: p for p in places if p.organization_id == path_id}
            return {"results": [_project(place) for place in mine.values()]} if mine else None
        if operation == "environments":
            mine_envs = [place for place in places if place.project_id == path_id]
            return {"results": [_environment(place) for place in mine_envs]} if mine_envs else None
        if path_id not in self.places:
            return None
        jobs = [job for job in self.jobs.values() if job.environment_id == path_id]
        if operation == "environment_jobs":
            return {"results": [_job_body(job) for job in jobs]}
        return {"results": [self.status_body(job, now) for job in jobs]}  # environment_job_statuses

    def queue_body(self, job: JobScript, now: float) -> dict[str, Any]:
        """The job's requests that have not started yet, as `GET /service/{id}/deploymentQueue` lists them."""
        waiting = [
            request
            for request in self.deployments_of_unlocked(job.job_id)
            if request.state_at(now) in QUEUED_STATES
        ]
        return {
            "results": [
                {
                    "identifier": {
                        "deployment_request_id": request.id,
                        "service_id": job.job_id,
                        "service_type": "JOB",
                        "name": "job",
                    },
                    "auditing_data": {"triggered_by": "simulator"},
                    "status_details": {"action": "DEPLOY", "status": "QUEUED", "sub_action": "NONE"},
                    "icon_uri": "https://example.com/job.svg",
                }
                for request in sorted(waiting, key=lambda r: r.created_at)
            ]
        }

    def job_concerned(self, operation: str, path_id: str | None, exchange: Exchange) -> JobScript | None:
        """The job a call is about: in its path, or behind the deployment request it names."""
        if operation == "request_status":
            request = self.requests.get((exchange.query.get("deploymentRequestId") or [""])[0])
            return self.jobs.get(request.job_id) if request else None
        if operation in ("environment", "logs"):
            return next((job for job in self.jobs.values() if job.environment_id == path_id), None)
        return self.jobs.get(path_id or "")

    def logs_body(self, environment_id: str, version: str, now: float) -> list[dict[str, Any]]:
        """The environment's deployment log for one execution: every service's lines, mixed."""
        entries: list[dict[str, Any]] = []
        for request in self.requests.values():
            job = self.jobs[request.job_id]
            if job.environment_id == environment_id and request.execution_id == version:
                entries += _log_entries(job, request, now)
        return entries

    def deployments_of_unlocked(self, job_id: str) -> list[DeploymentRequest]:
        return [r for r in self.requests.values() if r.job_id == job_id]

    def _latest(self, job_id: str) -> DeploymentRequest | None:
        mine = self.deployments_of_unlocked(job_id)
        return max(mine, key=lambda r: r.created_at) if mine else None


def _log_entries(job: JobScript, request: DeploymentRequest, now: float) -> list[dict[str, Any]]:
    """Our job's lines (its states so far, then what it printed) interleaved with another service's."""

    def entry(transmitter: str, name: str, offset: float, step: str, message: str) -> dict[str, Any]:
        return {
            "type": "DEPLOYMENT",
            "timestamp": _iso(offset),
            "details": {
                "execution_id": request.execution_id,
                "transmitter": {"id": transmitter, "name": name, "type": "JOB"},
                "stage": {"step": step},
            },
            "message": {"safe_message": message},
        }

    elapsed = now - request.created_at
    entries = []
    for offset, state in request.timeline:
        if offset > elapsed:
            break
        entries.append(entry(OTHER_SERVICE_ID, "frontend", offset, "Deploy", f"frontend: serving ({state})"))
        entries.append(entry(job.job_id, job.job_name, offset, "Deploy", f"{job.job_name}: {state}"))
    final_offset = request.timeline[-1][0]
    for line in job.log_lines if elapsed >= final_offset else []:
        entries.insert(-1, entry(job.job_id, job.job_name, final_offset, "Deploy", line))
    other_failure = entry(OTHER_SERVICE_ID, "frontend", 0.0, "DeployedError", "frontend: image pull failed")
    other_failure["error"] = {
        "tag": "IMAGE_PULL",
        "user_log_message": "Not our job's error",
        "hint_message": "",
    }
    entries.insert(0, other_failure)
    # Qovery's diagnosis is of an error: a cancelled deployment has none.
    if entries and job.log_error is not None and request.state_at(now).endswith("_ERROR"):
        entries[-1]["error"] = dict(job.log_error)
        entries[-1]["details"]["stage"]["step"] = "DeployedError"
    return entries


def _iso(offset: float) -> str:
    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(1767225600 + offset))
        + f".{int(offset * 1000) % 1000:03d}Z"
    )


def _job_body(job: JobScript) -> dict[str, Any]:
    """A lifecycle job as `GET /job/{id}` returns it (`LifecycleJobResponse`)."""
    return {
        "id": job.job_id,
        "created_at": "2026-01-01T00:00:00Z",
        "environment": {"id": job.environment_id},
        "name": job.job_name,
        "maximum_cpu": 16000,
        "maximum_memory": 16384,
        "maximum_gpu": 0,
        "cpu": 500,
        "memory": 512,
        "gpu": 0,
        "auto_preview": False,
        "source": {
            "image": {
                "image_name": f"shop/{job.job_name}",
                "tag": "v1",
                "registry": {
                    "id": "55555555-5555-4555-8555-555555555555",
                    "name": "registry",
                    "url": "https://registry.example.com",
                    "kind": "GENERIC_CR",
                },
            }
        },
        "healthchecks": {},
        "icon_uri": "https://example.com/job.svg",
        "service_type": "JOB",
        "job_type": "LIFECYCLE",
        "schedule": {"on_start": {"arguments": ["migrate"]}},
    }


def builtin_jobs() -> list[JobScript]:
    """The jobs every simulator has: for the demo, the container tests and the runner emulators."""
    return [
        JobScript(
            SUCCESS_JOB,
            timeline=[(0.0, "QUEUED"), (0.5, "DEPLOYING"), (1.0, "EXECUTING"), (2.0, "DEPLOYED")],
            stale_seconds=0.5,
            past_durations=[2, 2, 3],
            about="succeeds (DEPLOYED) in about 2 s",
            job_name="migrate",
            environment_id=DEMO_ENVIRONMENT,
        ),
        JobScript(
            FAILURE_JOB,
            timeline=[(0.0, "QUEUED"), (0.5, "DEPLOYING"), (1.0, "EXECUTING"), (2.0, "DEPLOYMENT_ERROR")],
            stale_seconds=0.5,
            about="fails (DEPLOYMENT_ERROR) after about 2 s, with a migration error in its log",
            job_name="add-orders-index",
            environment_id=DEMO_ENVIRONMENT,
            log_lines=[
                "Running migrations for shop",
                "Applying 0042_add_orders_index...",
                'psql: error: relation "orders_idx" already exists',
                "Process exited with code 1",
            ],
        ),
        JobScript(
            HOSTILE_LOG_JOB,
            timeline=[(0.0, "QUEUED"), (0.5, "EXECUTING"), (1.0, "DEPLOYMENT_ERROR")],
            log_lines=list(HOSTILE_LOG_LINES),
            about="fails, its log trying runner commands and escapes (for tests)",
            job_name="hostile-log",
            environment_id=DEMO_ENVIRONMENT,
        ),
        JobScript(
            SLOW_JOB,
            timeline=[(0.0, "QUEUED"), (1.0, "EXECUTING"), (600.0, "DEPLOYED")],
            about="runs for 10 minutes: try `timeout`, `cancel-on-timeout`, Ctrl-C",
            job_name="nightly-report",
            environment_id=DEMO_ENVIRONMENT,
        ),
    ]


def _organization(place: Place) -> dict[str, Any]:
    return {
        "id": place.organization_id,
        "created_at": CREATED_AT,
        "name": place.organization_name,
        "plan": "TEAM",
    }


def _project(place: Place) -> dict[str, Any]:
    return {
        "id": place.project_id,
        "created_at": CREATED_AT,
        "name": place.project_name,
        "organization": {"id": place.organization_id},
        "associated_environments_count": 1,
    }


def _environment(place: Place) -> dict[str, Any]:
    return {
        "id": place.environment_id,
        "created_at": CREATED_AT,
        "name": place.environment_name,
        "cloud_provider": {"provider": "aws", "cluster": "eu-west-3"},
        "mode": "PRODUCTION",
        "cluster_id": "c1c1c1c1-0000-4000-8000-000000000001",
        "project": {"id": place.project_id},
        "organization": {"id": place.organization_id},
    }


def _is_failure(state: str) -> bool:
    return state.endswith("_ERROR") or state in ("CANCELED", "RECAP")


def _status(
    job_id: str, state: str, request_id: str | None, count: int, execution_id: str | None, details_status: str
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": job_id,
        "state": state,
        "service_deployment_status": "UP_TO_DATE" if state == "DEPLOYED" else "OUT_OF_DATE",
        "status_details": {"action": "DEPLOY", "status": details_status, "sub_action": "NONE"},
        "is_part_last_deployment": True,
        "deployment_requests_count": count,
        "deployment_request_id": request_id,
    }
    if execution_id:
        body["execution_id"] = execution_id
    return body


def _operation(method: str, path: str) -> tuple[str, str | None]:
    """(operation name, id in the path) for the routes the simulator serves."""
    parts = path.strip("/").split("/")
    if method == "GET" and len(parts) == 3 and parts[0] == "job" and parts[2] == "status":
        return "status", parts[1]
    if method == "POST" and len(parts) == 3 and parts[0] == "job" and parts[2] == "deploy":
        return "deploy", parts[1]
    if method == "GET" and len(parts) == 3 and parts[0] == "job" and parts[2] == "deploymentHistoryV2":
        return "history", parts[1]
    if method == "GET" and parts == ["environment", "deploymentStatus"]:
        return "request_status", None
    if method == "GET" and len(parts) == 3 and parts[0] == "service" and parts[2] == "deploymentQueue":
        return "queue", parts[1]
    if method == "GET" and parts == ["organization"]:
        return "organizations", None
    if method == "GET" and len(parts) == 3 and parts[0] == "organization" and parts[2] == "project":
        return "projects", parts[1]
    if method == "GET" and len(parts) == 3 and parts[0] == "project" and parts[2] == "environment":
        return "environments", parts[1]
    if method == "GET" and len(parts) == 3 and parts[0] == "environment" and parts[2] == "job":
        return "environment_jobs", parts[1]
    if (
        method == "GET"
        and parts[:1] == ["environment"]
        and parts[2:] == ["job", "status"]
        and len(parts) == 4
    ):
        return "environment_job_statuses", parts[1]
    if method == "GET" and len(parts) == 2 and parts[0] == "job":
        return "job", parts[1]
    if method == "GET" and len(parts) == 2 and parts[0] == "environment":
        return "environment", parts[1]
    if method == "GET" and len(parts) == 3 and parts[0] == "environment" and parts[2] == "logs":
        return "logs", parts[1]
    if (
        method == "POST"
        and len(parts) == 3
        and parts[0] == "deploymentQueue"
        and parts[2] == "cancelDeployment"
    ):
        return "cancel", parts[1]
    return "unknown", None


def _handler_for(sim: QoverySimulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read `exchanges`
            return

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def _serve(self, method: str) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            exchange = Exchange(
                method, split.path, parse_qs(split.query), dict(self.headers.items()), self.rfile.read(length)
            )
            operation, path_id = _operation(method, split.path)
            with sim.lock:
                sim.exchanges.append(exchange)
                job = sim.job_concerned(operation, path_id, exchange)
                queue = job.faults.get(operation) if job else sim.faults.get(operation)
                fault = queue.popleft() if queue else None
            if fault is not None and fault.kind == "hang":  # nothing done, nothing answered
                time.sleep(fault.seconds)
                self.close_connection = True
                self.connection.shutdown(2)
                return
            # Transport faults: the work is done as usual, then the answer misbehaves on the wire.
            transport = fault if fault and fault.kind in TRANSPORT_FAULTS else None
            status, body, headers = self._answer(operation, path_id, exchange, None if transport else fault)
            if transport and transport.kind == "delay":
                time.sleep(transport.seconds)
            sim.log_exchange(method, self.path, status)
            if status == 0:  # reset: close without a word
                self.close_connection = True
                self.connection.shutdown(2)
                return
            exchange.status, exchange.response_headers, exchange.response_body = status, headers, body
            if sim.validator is not None:
                errors = sim.validator(exchange)
                if errors:
                    with sim.lock:
                        sim.contract_errors.extend(errors)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header(
                "Content-Length", str(len(body) + (10 if transport and transport.kind == "short" else 0))
            )
            self.end_headers()
            if transport and transport.kind == "trickle":
                self._trickle(body, transport.seconds)
            else:
                self.wfile.write(body)
            if transport and transport.kind == "short":  # fewer bytes than promised, then hang up
                self.close_connection = True
                self.wfile.flush()
                self.connection.shutdown(2)

        def _trickle(self, body: bytes, pause: float) -> None:
            for index in range(len(body)):
                self.wfile.write(body[index : index + 1])
                self.wfile.flush()
                time.sleep(pause)

        def _answer(
            self, operation: str, path_id: str | None, exchange: Exchange, fault: Fault | None
        ) -> tuple[int, bytes, dict[str, str]]:
            if not token_is_valid(exchange.headers.get("Authorization", "")):
                return 401, b"", {}
            now = sim.clock()
            with sim.lock:
                if fault is not None and not (operation == "deploy" and fault.acted):
                    return _fault_answer(fault)
                if operation == "request_status":
                    request = sim.requests.get((exchange.query.get("deploymentRequestId") or [""])[0])
                    if request is None:
                        return 404, b"", {}
                    return _json(
                        200,
                        {
                            "deployment_request_id": request.id,
                            "environment_id": sim.jobs[request.job_id].environment_id,
                            "status": request.state_at(now),
                        },
                    )
                if operation == "cancel":
                    return _cancel(sim, path_id, now)
                if operation in NAME_OPERATIONS:
                    names = sim.names_body(operation, path_id, now)
                    return (404, b"", {}) if names is None else _json(200, names)
                if operation in ("environment", "logs"):
                    owner = sim.job_concerned(operation, path_id, exchange)
                    if owner is None:
                        return 404, b"", {}
                    if operation == "environment":
                        return _json(200, _environment(sim.places[owner.environment_id]))
                    version = (exchange.query.get("version") or [""])[0]
                    return _json(200, sim.logs_body(owner.environment_id, version, now))
                target = sim.jobs.get(path_id or "")
                if target is None:
                    return 404, b"", {}
                if operation == "status":
                    body = sim.status_body(target, now)
                    return _json(200, {k: v for k, v in body.items() if k not in target.omitted_fields})
                if operation == "deploy":
                    body = sim.deploy(target, now)
                    if fault is not None:  # the POST fails after Qovery acted on it
                        return _fault_answer(fault)
                    return _json(202, body)
                if operation == "history":
                    return _json(200, _history(target))
                if operation == "queue":
                    return _json(200, sim.queue_body(target, now))
                if operation == "job":
                    return _json(200, _job_body(target))
            return 404, b"", {}

    return Handler


def _cancel(sim: QoverySimulator, request_id: str | None, now: float) -> tuple[int, bytes, dict[str, str]]:
    request = sim.requests.get(request_id or "")
    if request is None:
        return 404, b"", {}
    if now >= request.ends_at():
        return 409, b"", {}  # "already cancelled or an operation is in progress"
    request.canceled_at = now
    return 202, b"", {}


def _fault_answer(fault: Fault) -> tuple[int, bytes, dict[str, str]]:
    if fault.kind == "reset":
        return 0, b"", {}
    if fault.kind == "truncated":
        return 200, b'{"id": "', {"Content-Type": "application/json"}
    headers = dict(fault.headers)
    headers.setdefault("Content-Type", "text/html" if fault.body.startswith("<") else "text/plain")
    if fault.retry_after_date_in is not None:
        headers["Retry-After"] = formatdate(time.time() + fault.retry_after_date_in, usegmt=True)
    return fault.status, fault.body.encode(), headers


def _json(status: int, body: dict[str, Any] | list[Any]) -> tuple[int, bytes, dict[str, str]]:
    return status, json.dumps(body).encode(), {"Content-Type": "application/json"}


def _history(job: JobScript) -> dict[str, Any]:
    results = [
        {
            "identifier": {"name": "job", "service_id": job.job_id, "service_type": "JOB"},
            "status": "DEPLOYED",
            "auditing_data": {
                "created_at": "2026-01-01T00:00:00Z",
                "updated_at": "2026-01-01T00:00:00Z",
                "triggered_by": "simulator",
            },
            # `{}`: the only details body that passes the spec's ambiguous oneOf (see qovery-api README).
            "details": {},
            "status_details": {"action": "DEPLOY", "status": "SUCCESS", "sub_action": "NONE"},
            "icon_uri": "https://example.com/job.svg",
            "total_duration": f"PT{seconds}S",
        }
        for seconds in job.past_durations
    ]
    return {"page": 1, "page_size": 20, "results": results}


def introduction(sim: QoverySimulator) -> str:
    """What a user needs to point the step at the simulator."""
    jobs = "".join(f"  {job.job_id}  {job.job_name:<17} {job.about}\n" for job in sim.jobs.values())
    first = next(iter(sim.jobs))
    return (
        f"Qovery simulator listening on {sim.url}\n\n"
        "Point the step at it (any token starting with qov_ is accepted):\n"
        f"  export QOVERY_API_URL={sim.url} QOVERY_API_TOKEN=qov_anything\n\n"
        f"Its jobs:\n{jobs}\n"
        f"Then, in another terminal: qovery-job-deploy --job-id {first}\n"
        "or by name, several at once:\n"
        "  qovery-job-deploy --environment production --jobs migrate,nightly-report --timeout 20s\n"
        "Each request is logged below (method, path, status); Ctrl-C stops the simulator.\n"
    )


def serve_forever(port: int, url_file: Path | None, log: TextIO | None) -> None:
    """The CLI: serve the built-in jobs until SIGTERM or SIGINT."""
    sim = QoverySimulator(port=port, log=log).start()
    if url_file is not None:
        url_file.write_text(sim.url + "\n")
    print(introduction(sim), flush=True)
    done = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    done.wait()
    sim.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        prog="python -m qovery_job_deploy.simulator",
        description="Serve a simulated Qovery API on 127.0.0.1, with jobs that succeed, fail or run long.",
    )
    parser.add_argument(
        "--port", type=int, default=0, help="the port to listen on; 0 (default) picks a free one"
    )
    parser.add_argument("--url-file", type=Path, help="write the base URL here once listening")
    parser.add_argument("--quiet", action="store_true", help="do not log each request on stderr")
    options = parser.parse_args()
    serve_forever(options.port, options.url_file, None if options.quiet else sys.stderr)
