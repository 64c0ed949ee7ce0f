"""The simulated Qovery API itself: state, and one answer per request. No sockets here.

`QoverySimulator.handle` takes a request (method, path, query, headers, body) and returns an `Answer`; the
HTTP server (`server.py`) and the in-process transport (`transport.py`) are two ways to reach it, and both
have every exchange checked by the same `validator` (the test suite's OpenAPI contract check).
"""

from __future__ import annotations

import ssl
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from email.utils import formatdate
from typing import Any, TextIO

from qovery_job_deploy.simulator import bodies
from qovery_job_deploy.simulator.routes import NAME_OPERATIONS, Answer, json_answer, route
from qovery_job_deploy.simulator.scripts import (
    QUEUED_STATES,
    WIRE_FAULTS,
    DeploymentRequest,
    Exchange,
    Fault,
    JobScript,
    Place,
    builtin_jobs,
    token_is_valid,
)
from qovery_job_deploy.text import one_line


class QoverySimulator:
    """Thread-safe simulated Qovery. Reach it in-process (`transport.SimulatorAdapter`) or over HTTP
    (`start()` / `stop()`, or as a context manager)."""

    def __init__(
        self,
        jobs: list[JobScript] | None = None,
        *,
        validator: Callable[[Exchange], list[str]] | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
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
        # Violations a test expects on purpose (a newer API's fields); the contract check ignores them.
        self.allowed_deviations: tuple[str, ...] = ()
        self.validator = validator
        self.clock = clock  # the deployments' timelines
        self.wall = wall  # timestamps of exchanges and of ends, and Retry-After dates
        self.lock = threading.Lock()
        self.terminal_at: dict[str, float] = {}  # request id -> `wall` time it turned terminal
        # Faults of calls that concern no single job (the name lookups, environment-wide statuses).
        self.faults: dict[str, deque[Fault | None]] = {}
        self._listen = (host, port, tls)
        self._server: Any = None  # server.SimulatorServer once started
        self._address = f"https://simulator-{uuid.uuid4().hex[:8]}.invalid"  # in-process only

    # -- reaching it ------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The HTTP server's base URL once started, else one only the in-process transport serves."""
        return self._server.url if self._server is not None else self._address

    @property
    def served(self) -> bool:
        return self._server is not None

    def start(self) -> QoverySimulator:
        from qovery_job_deploy.simulator.server import SimulatorServer  # noqa: PLC0415 - sockets when asked

        host, port, tls = self._listen
        self._server = SimulatorServer(self, host, port, tls).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()

    def __enter__(self) -> QoverySimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- queries for tests ----------------------------------------------------------------------------

    def deployments_of(self, job_id: str) -> list[DeploymentRequest]:
        with self.lock:
            return self._deployments_of(job_id)

    def calls(self, operation: str) -> int:
        with self.lock:
            return sum(
                1 for exchange in self.exchanges if route(exchange.method, exchange.path)[0] == operation
            )

    # -- one request ------------------------------------------------------------------------------------

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes
    ) -> Answer:
        exchange = Exchange(method, path, query, headers, body, received_at=self.wall())
        operation, path_id = route(method, path)
        with self.lock:
            self.exchanges.append(exchange)
            job = self._job_concerned(operation, path_id, exchange)
            queue = job.faults.get(operation) if job else self.faults.get(operation)
            fault = queue.popleft() if queue else None
        if fault is not None and fault.kind == "hang":  # nothing done, nothing answered
            self._log_exchange(method, path, 0)
            return Answer(0, wire=fault)
        # Wire faults: the work is done as usual, then the answer misbehaves on the wire.
        wire = fault if fault and fault.kind in WIRE_FAULTS else None
        answer = self._answer(operation, path_id, exchange, None if wire else fault)
        answer.wire = wire
        self._log_exchange(method, path, answer.status)
        if answer.status == 0:  # reset: closed without a word
            return answer
        exchange.status, exchange.response_headers, exchange.response_body = (
            answer.status,
            answer.headers,
            answer.body,
        )
        if self.validator is not None and (errors := self.validator(exchange)):
            with self.lock:
                self.contract_errors.extend(errors)
        return answer

    def unexpected_contract_errors(self) -> list[str]:
        return [
            error
            for error in self.contract_errors
            if not any(allowed in error for allowed in self.allowed_deviations)
        ]

    def _log_exchange(self, method: str, path: str, status: int) -> None:
        if self.log is None:
            return
        answer = str(status) if status else "connection reset"
        stamp = time.strftime("%H:%M:%S")
        with self.lock:
            self.log.write(f"{stamp} {method} {one_line(path, 300)} -> {answer}\n")
            self.log.flush()

    def _answer(self, operation: str, path_id: str | None, exchange: Exchange, fault: Fault | None) -> Answer:
        if not token_is_valid(exchange.headers.get("Authorization", "")):
            return Answer(401)
        now = self.clock()
        with self.lock:
            if fault is not None and not (operation == "deploy" and fault.acted):
                return self._fault_answer(fault)
            if operation in NAME_OPERATIONS:
                names = self._names_body(operation, path_id, now)
                return Answer(404) if names is None else json_answer(200, names)
            serve = _BY_OPERATION.get(operation)
            return serve(self, path_id, exchange, fault, now) if serve else Answer(404)

    # -- the operations (each answers one route; the lock is held) --------------------------------------

    def _request_status(
        self, path_id: str | None, exchange: Exchange, fault: Fault | None, now: float
    ) -> Answer:
        request = self.requests.get(exchange.query_value("deploymentRequestId"))
        if request is None:
            return Answer(404)
        environment_id = self.jobs[request.job_id].environment_id
        return json_answer(
            200,
            {
                "deployment_request_id": request.id,
                "environment_id": environment_id,
                "status": request.state_at(now),
            },
        )

    def _cancel(self, request_id: str | None, exchange: Exchange, fault: Fault | None, now: float) -> Answer:
        request = self.requests.get(request_id or "")
        if request is None:
            return Answer(404)
        if now >= request.ends_at():
            return Answer(409)  # "already cancelled or an operation is in progress"
        request.canceled_at = now
        return Answer(202)

    def _environment(
        self, path_id: str | None, exchange: Exchange, fault: Fault | None, now: float
    ) -> Answer:
        owner = self._job_concerned("environment", path_id, exchange)
        return (
            Answer(404)
            if owner is None
            else json_answer(200, bodies.environment(self.places[owner.environment_id]))
        )

    def _logs(self, path_id: str | None, exchange: Exchange, fault: Fault | None, now: float) -> Answer:
        owner = self._job_concerned("logs", path_id, exchange)
        if owner is None:
            return Answer(404)
        return json_answer(200, self._logs_body(owner.environment_id, exchange.query_value("version"), now))

    def _status(self, path_id: str | None, exchange: Exchange, fault: Fault | None, now: float) -> Answer:
        if (target := self.jobs.get(path_id or "")) is None:
            return Answer(404)
        body = self.status_body(target, now)
        return json_answer(200, {k: v for k, v in body.items() if k not in target.omitted_fields})

    def _deploy(self, path_id: str | None, exchange: Exchange, fault: Fault | None, now: float) -> Answer:
        if (target := self.jobs.get(path_id or "")) is None:
            return Answer(404)
        body = self._deploy_job(target, now)
        if fault is not None:  # the POST fails after Qovery acted on it
            return self._fault_answer(fault)
        return json_answer(202, body)

    def _history(self, path_id: str | None, exchange: Exchange, fault: Fault | None, now: float) -> Answer:
        target = self.jobs.get(path_id or "")
        return Answer(404) if target is None else json_answer(200, bodies.history(target))

    def _queue(self, path_id: str | None, exchange: Exchange, fault: Fault | None, now: float) -> Answer:
        target = self.jobs.get(path_id or "")
        return Answer(404) if target is None else json_answer(200, self._queue_body(target, now))

    def _job(self, path_id: str | None, exchange: Exchange, fault: Fault | None, now: float) -> Answer:
        target = self.jobs.get(path_id or "")
        return Answer(404) if target is None else json_answer(200, bodies.job_body(target))

    # -- the API's behaviour ----------------------------------------------------------------------------

    def status_body(self, job: JobScript, now: float) -> dict[str, Any]:
        ours = self._latest(job.job_id)
        count = len(self._deployments_of(job.job_id))
        if ours is None or now - ours.created_at < job.stale_seconds:
            return self._previous_status(job, ours, count)
        state = ours.state_at(now)
        if job.taken_over and now >= ours.ends_at():
            newer = f"{ours.id[:-12]}{'f' * 12}"  # someone else's request, queued right behind ours
            return bodies.status(job.job_id, "QUEUED", newer, count + 1, None, "QUEUED")
        ended = now >= ours.ends_at()
        details_status = "ONGOING"
        if ended:
            details_status = job.final_action_status or ("ERROR" if bodies.is_failure(state) else "SUCCESS")
        body = bodies.status(job.job_id, state, ours.id, count, ours.execution_id, details_status)
        body.update(job.extra_status_fields)
        if ended and "steps" not in job.omitted_fields:
            body["steps"] = bodies.steps(job, ours, state)
        return body

    def _previous_status(self, job: JobScript, ours: DeploymentRequest | None, count: int) -> dict[str, Any]:
        """The status while it still describes the request before ours (or no deployment ever)."""
        if ours is not None and job.stale_hides_count:
            count -= 1
        body = bodies.status(job.job_id, job.previous_state, job.previous_request_id, count, None, "SUCCESS")
        if job.past_durations and "steps" not in job.omitted_fields:  # the last run's figures
            last = job.past_durations[-1]
            body["steps"] = {"total_duration_sec": last, "total_computing_duration_sec": last, "details": []}
        if job.previous_request_id is None:
            body |= {"service_deployment_status": "NEVER_DEPLOYED", "state": "READY"}
            body["status_details"]["status"] = "NEVER"
        return body

    def _deploy_job(self, job: JobScript, now: float) -> dict[str, Any]:
        if job.accepts_without_deploying:
            count = len(self._deployments_of(job.job_id))
            return bodies.status(job.job_id, job.previous_state, None, count, None, "SUCCESS")
        request = DeploymentRequest(str(uuid.uuid4()), job.job_id, now, list(job.timeline))
        self.requests[request.id] = request
        self.terminal_at[request.id] = self.wall() + job.timeline[-1][0]
        count = len(self._deployments_of(job.job_id))
        answer_id = None if job.deploy_answer_without_id else request.id
        return bodies.status(job.job_id, "QUEUED", answer_id, count, None, "QUEUED")

    def _names_body(self, operation: str, path_id: str | None, now: float) -> dict[str, Any] | None:
        """The lists behind names: organizations, projects, environments, an environment's jobs and their
        statuses. None when the id in the path is unknown."""
        places = list(self.places.values())
        if operation == "organizations":
            unique = {place.organization_id: place for place in places}
            return {"results": [bodies.organization(place) for place in unique.values()]}
        if operation == "projects":
            mine = {p.project_id: p for p in places if p.organization_id == path_id}
            return {"results": [bodies.project(place) for place in mine.values()]} if mine else None
        if operation == "environments":
            mine_envs = [place for place in places if place.project_id == path_id]
            return {"results": [bodies.environment(place) for place in mine_envs]} if mine_envs else None
        if path_id not in self.places:
            return None
        jobs = [job for job in self.jobs.values() if job.environment_id == path_id]
        if operation == "environment_jobs":
            return {"results": [bodies.job_body(job) for job in jobs]}
        return {"results": [self.status_body(job, now) for job in jobs]}  # environment_job_statuses

    def _queue_body(self, job: JobScript, now: float) -> dict[str, Any]:
        """The job's requests that have not started yet, as `GET /service/{id}/deploymentQueue` lists them."""
        waiting = [r for r in self._deployments_of(job.job_id) if r.state_at(now) in QUEUED_STATES]
        return {
            "results": [
                bodies.queued(job, request) for request in sorted(waiting, key=lambda r: r.created_at)
            ]
        }

    def _job_concerned(self, operation: str, path_id: str | None, exchange: Exchange) -> JobScript | None:
        """The job a call is about: in its path, or behind the deployment request it names."""
        if operation == "request_status":
            request = self.requests.get(exchange.query_value("deploymentRequestId"))
            return self.jobs.get(request.job_id) if request else None
        if operation in ("environment", "logs"):
            return next((job for job in self.jobs.values() if job.environment_id == path_id), None)
        return self.jobs.get(path_id or "")

    def _logs_body(self, environment_id: str, version: str, now: float) -> list[dict[str, Any]]:
        """The environment's deployment log for one execution: every service's lines, mixed."""
        entries: list[dict[str, Any]] = []
        for request in self.requests.values():
            job = self.jobs[request.job_id]
            if job.environment_id == environment_id and request.execution_id == version:
                entries += bodies.log_entries(job, request, now)
        return entries

    def _deployments_of(self, job_id: str) -> list[DeploymentRequest]:
        return [r for r in self.requests.values() if r.job_id == job_id]

    def _latest(self, job_id: str) -> DeploymentRequest | None:
        mine = self._deployments_of(job_id)
        return max(mine, key=lambda r: r.created_at) if mine else None

    def _fault_answer(self, fault: Fault) -> Answer:
        if fault.kind == "reset":
            return Answer(0)
        if fault.kind == "truncated":
            return Answer(200, b'{"id": "', {"Content-Type": "application/json"})
        headers = dict(fault.headers)
        headers.setdefault("Content-Type", "text/html" if fault.body.startswith("<") else "text/plain")
        if fault.retry_after_date_in is not None:
            headers["Retry-After"] = formatdate(time.time() + fault.retry_after_date_in, usegmt=True)
        return Answer(fault.status, fault.body.encode(), headers)


Operation = Callable[[QoverySimulator, str | None, Exchange, Fault | None, float], Answer]
_BY_OPERATION: dict[str, Operation] = {
    "request_status": QoverySimulator._request_status,
    "cancel": QoverySimulator._cancel,
    "environment": QoverySimulator._environment,
    "logs": QoverySimulator._logs,
    "status": QoverySimulator._status,
    "deploy": QoverySimulator._deploy,
    "history": QoverySimulator._history,
    "queue": QoverySimulator._queue,
    "job": QoverySimulator._job,
}
