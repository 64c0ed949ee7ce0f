"""The simulated Qovery API itself: state, and one answer per request. No sockets here.

It serves every kind of service (`scripts.KINDS`): a service is found by its id under its own kind only
(`GET /container/{id}` of a job's id is a 404), and each deploy request must carry what its kind's spec
says (`asks.py`), recorded on its `DeploymentRequest.asked`.

`QoverySimulator.handle` takes a request (method, path, query, headers, body) and returns an `Answer`; the
HTTP server (`server.serve(sim)`) and the in-process transport (`transport.py`) are two ways to reach it,
and both have every exchange checked by the same `validator` (the test suite's OpenAPI contract check).
Neither is imported here: the model knows no socket.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any, TextIO

from qovery_job_deploy.simulator import bodies
from qovery_job_deploy.simulator.asks import BadRequest, read_ask
from qovery_job_deploy.simulator.catalogue import builtin_services
from qovery_job_deploy.simulator.environments import Environments
from qovery_job_deploy.simulator.events import deployment_request
from qovery_job_deploy.simulator.queue import schedule
from qovery_job_deploy.simulator.ratelimit import Budgets, RateLimit
from qovery_job_deploy.simulator.routes import (
    NAME_OPERATIONS,
    Answer,
    Route,
    fault_answer,
    json_answer,
    route,
)
from qovery_job_deploy.simulator.scripts import (
    QUEUED_STATES,
    WIRE_FAULTS,
    DeploymentRequest,
    Exchange,
    Fault,
    JobScript,
    Place,
    token_is_valid,
)
from qovery_job_deploy.simulator.services import service_body
from qovery_job_deploy.text import one_line


class QoverySimulator:
    """Thread-safe simulated Qovery. Reach it in-process (`transport.SimulatorAdapter`) or over HTTP
    (`server.serve(sim)`, which sets its `url`)."""

    def __init__(
        self,
        services: list[JobScript] | None = None,
        *,
        validator: Callable[[Exchange], list[str]] | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        places: list[Place] | None = None,
        log: TextIO | None = None,
        rate_limit: RateLimit | None = None,
    ) -> None:
        # The services it serves, by id (jobs, applications, ...: `JobScript.kind`).
        self.services = {script.job_id: script for script in services or builtin_services()}
        self.log = log  # one line per request when set (the CLI); tests read `exchanges` instead
        # Every service's environment exists; one not declared is the service's own (in acme / shop).
        self.places = {place.environment_id: place for place in places or ()}
        for job in self.services.values():
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
        # Request id -> the `wall` time it turns terminal (its environment's queue included).
        self.terminal_at: dict[str, float] = {}
        # Faults of calls that concern no single service (the name lookups, environment-wide statuses).
        self.faults: dict[str, deque[Fault | None]] = {}
        # Clones, deletions and stages (`environments.py`): previews.
        self.environments = Environments(self.services, self.places)
        # Done once each, just before the next call of an operation is served: someone else's request
        # that lands first (another run's clone of the same name, say).
        self.just_before: dict[str, deque[Callable[[], object]]] = {}
        # Its base URL: one only the in-process transport serves, until `server.serve(sim)` sets the
        # HTTP server's.
        self.url = f"https://simulator-{uuid.uuid4().hex[:8]}.invalid"
        # Qovery's rate limit, imposed per token when given (`ratelimit.py`): headers on every answer.
        self.budgets = Budgets(rate_limit) if rate_limit is not None else None

    # -- queries for tests ----------------------------------------------------------------------------

    def deployments_of(self, job_id: str) -> list[DeploymentRequest]:
        with self.lock:
            return self._deployments_of(job_id)

    def calls(self, operation: str) -> int:
        with self.lock:
            return sum(1 for e in self.exchanges if route(e.method, e.path).operation == operation)

    # -- one request ------------------------------------------------------------------------------------

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes
    ) -> Answer:
        found = route(method, path)
        with self.lock:
            before = self.just_before.get(found.operation)
            first = before.popleft() if before else None
        if first is not None:
            first()
        exchange = Exchange(method, path, query, headers, body, received_at=self.wall())
        with self.lock:
            self.exchanges.append(exchange)
            allowed, limit_headers = True, dict[str, str]()
            if self.budgets is not None:
                token = exchange.headers.get("Authorization", "")
                allowed, limit_headers = self.budgets.take(token, self.clock())
            job = self._concerned(found, exchange)
            queue = job.faults.get(found.operation) if job else self.faults.get(found.operation)
            fault = queue.popleft() if queue and allowed else None
        if not allowed:  # beyond the limit: nothing done, no fault spent
            answer = Answer(429, b"Too many requests", {"Content-Type": "text/plain"} | limit_headers)
            self._log_exchange(method, path, answer.status)
            return self._checked(exchange, answer)
        if fault is not None and fault.kind == "hang":  # nothing done, nothing answered
            self._log_exchange(method, path, 0)
            return Answer(0, wire=fault)
        # Wire faults: the work is done as usual, then the answer misbehaves on the wire.
        wire = fault if fault and fault.kind in WIRE_FAULTS else None
        answer = self._answer(found, exchange, None if wire else fault)
        answer.wire = wire
        answer.headers.update(limit_headers)
        self._log_exchange(method, path, answer.status)
        if answer.status == 0:  # reset: closed without a word
            return answer
        return self._checked(exchange, answer)

    def _checked(self, exchange: Exchange, answer: Answer) -> Answer:
        """The answer recorded on its exchange, and the exchange checked against the contract."""
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

    def _answer(self, found: Route, exchange: Exchange, fault: Fault | None) -> Answer:
        if not token_is_valid(exchange.headers.get("Authorization", "")):
            return Answer(401)
        now = self.clock()
        with self.lock:
            self.environments.settle(now)
            if fault is not None and not (found.operation in ("deploy", "clone") and fault.acted):
                return fault_answer(fault)
            if found.operation in NAME_OPERATIONS:
                names = self._names_body(found, now)
                return Answer(404) if names is None else json_answer(200, names)
            serve = _BY_OPERATION.get(found.operation)
            return serve(self, found, exchange, fault, now) if serve else Answer(404)

    # -- the operations (each answers one route; the lock is held) --------------------------------------

    def _request_status(self, found: Route, exchange: Exchange, fault: Fault | None, now: float) -> Answer:
        request = self.requests.get(exchange.query_value("deploymentRequestId"))
        if request is None:
            return Answer(404)
        environment_id = self.services[request.job_id].environment_id
        return json_answer(
            200,
            {
                "deployment_request_id": request.id,
                "environment_id": environment_id,
                "status": request.state_at(now),
            },
        )

    def _cancel(self, found: Route, exchange: Exchange, fault: Fault | None, now: float) -> Answer:
        request = self.requests.get(found.path_id or "")
        if request is None:
            return Answer(404)
        if now >= request.ends_at():
            return Answer(409)  # "already cancelled or an operation is in progress"
        request.canceled_at = now
        self._schedule(self.services[request.job_id].environment_id, now)
        return Answer(202)

    def _environment(self, found: Route, exchange: Exchange, fault: Fault | None, now: float) -> Answer:
        place = self.places.get(found.path_id or "")
        return Answer(404) if place is None else json_answer(200, bodies.environment(place))

    def _previews(self, found: Route, exchange: Exchange, fault: Fault | None, now: float) -> Answer:
        """Clone, delete, and an environment's own status and stages: `environments.py`'s."""
        status_of = lambda script: self.status_body(script, now)  # noqa: E731
        answer = self.environments.answer(found.operation, found.path_id or "", exchange.body, now, status_of)
        return answer if fault is None else fault_answer(fault)  # a clone that fails after Qovery acted

    def _logs(self, found: Route, exchange: Exchange, fault: Fault | None, now: float) -> Answer:
        owner = self._concerned(found, exchange)
        if owner is None:
            return Answer(404)
        return json_answer(200, self._logs_body(owner.environment_id, exchange.query_value("version"), now))

    def _status(self, found: Route, exchange: Exchange, fault: Fault | None, now: float) -> Answer:
        if (target := self._concerned(found, exchange)) is None:
            return Answer(404)
        body = self.status_body(target, now)
        return json_answer(200, {k: v for k, v in body.items() if k not in target.omitted_fields})

    def _deploy(self, found: Route, exchange: Exchange, fault: Fault | None, now: float) -> Answer:
        if (target := self._concerned(found, exchange)) is None:
            return Answer(404)
        try:
            asked = read_ask(target.kind, exchange.body, exchange.query)
        except BadRequest as error:
            return Answer(400, str(error).encode(), {"Content-Type": "text/plain"})
        body = self._deploy_service(target, asked, now)
        if fault is not None:  # the POST fails after Qovery acted on it
            return fault_answer(fault)
        return json_answer(202, body)

    def _history(self, found: Route, exchange: Exchange, fault: Fault | None, now: float) -> Answer:
        target = self._concerned(found, exchange)
        return Answer(404) if target is None else json_answer(200, bodies.history(target))

    def _queue(self, found: Route, exchange: Exchange, fault: Fault | None, now: float) -> Answer:
        target = self._concerned(found, exchange)
        return Answer(404) if target is None else json_answer(200, self._queue_body(target, now))

    def _service(self, found: Route, exchange: Exchange, fault: Fault | None, now: float) -> Answer:
        target = self._concerned(found, exchange)
        return Answer(404) if target is None else json_answer(200, self._service_body(target, now))

    def _links(self, found: Route, exchange: Exchange, fault: Fault | None, now: float) -> Answer:
        target = self._concerned(found, exchange)
        return Answer(404) if target is None else json_answer(200, bodies.links([target]))

    def _environment_links(self, found: Route, exchange: Exchange, fault: Fault | None, now: float) -> Answer:
        if found.path_id not in self.places:
            return Answer(404)
        here = [script for script in self.services.values() if script.environment_id == found.path_id]
        return json_answer(200, bodies.links(here))

    # -- the API's behaviour ----------------------------------------------------------------------------

    def status_body(self, job: JobScript, now: float) -> dict[str, Any]:
        return bodies.service_status(job, self._deployments_of(job.job_id), now)

    def _deploy_service(self, job: JobScript, asked: dict[str, Any], now: float) -> dict[str, Any]:
        if job.accepts_without_deploying:
            count = len(self._deployments_of(job.job_id))
            return bodies.status(job.job_id, job.previous_state, None, count, None, "SUCCESS")
        request = deployment_request(job, asked, now)
        self.requests[request.id] = request
        self._schedule(job.environment_id, now)
        count = len(self._deployments_of(job.job_id))
        answer_id = None if job.deploy_answer_without_id else request.id
        state, action = request.queued_state, request.action
        return bodies.status(job.job_id, state, answer_id, count, None, "QUEUED", action)

    def _schedule(self, environment_id: str, now: float) -> None:
        """Its environment's queue, after a request came or was cancelled: when each starts and ends."""
        here = [r for r in self.requests.values() if self.services[r.job_id].environment_id == environment_id]
        schedule(here)
        for request in here:  # in `wall` time, which may not be the timelines' clock (served)
            if request.ends_at() >= now or request.id not in self.terminal_at:
                self.terminal_at[request.id] = self.wall() + (request.ends_at() - now)

    def _service_body(self, service: JobScript, now: float) -> dict[str, Any]:
        return service_body(service, self._deployments_of(service.job_id), now)

    def _names_body(self, found: Route, now: float) -> dict[str, Any] | None:
        """The lists behind names: organizations, projects, environments, an environment's services of a
        kind and their statuses, all its services' statuses. None when the id in the path is unknown."""
        places = list(self.places.values())
        known = places + list(self.environments.removed.values())  # a project outlives its environments
        if found.operation == "organizations":
            unique = {place.organization_id: place for place in known}
            return {"results": [bodies.organization(place) for place in unique.values()]}
        if found.operation == "projects":
            mine = {p.project_id: p for p in known if p.organization_id == found.path_id}
            return {"results": [bodies.project(place) for place in mine.values()]} if mine else None
        if found.operation == "environments":
            mine_envs = [place for place in places if place.project_id == found.path_id]
            if not mine_envs and all(place.project_id != found.path_id for place in known):
                return None
            return {"results": [bodies.environment(place) for place in mine_envs]}
        return self._environment_lists(found, now)

    def _environment_lists(self, found: Route, now: float) -> dict[str, Any] | None:
        """An environment's services of a kind, their statuses, or all its services' statuses."""
        if found.path_id not in self.places:
            return None
        here = [script for script in self.services.values() if script.environment_id == found.path_id]
        if found.operation == "environment_statuses":
            statuses: dict[str, list[dict[str, Any]]] = {}
            for script in here:
                statuses.setdefault(f"{script.kind}s", []).append(self.status_body(script, now))
            latest = max(
                (r for r in self.requests.values() if self.services[r.job_id] in here),
                key=lambda r: r.created_at,
                default=None,
            )
            return bodies.environment_statuses(found.path_id, statuses, latest.id if latest else None)
        of_kind = [script for script in here if script.kind == found.kind]
        if found.operation == "environment_services":
            return {"results": [self._service_body(script, now) for script in of_kind]}
        return {"results": [self.status_body(script, now) for script in of_kind]}  # environment_kind_statuses

    def _queue_body(self, job: JobScript, now: float) -> dict[str, Any]:
        """The service's requests not started yet, as `GET /service/{id}/deploymentQueue` lists them."""
        waiting = [r for r in self._deployments_of(job.job_id) if r.state_at(now) in QUEUED_STATES]
        return {
            "results": [
                bodies.queued(job, request) for request in sorted(waiting, key=lambda r: r.created_at)
            ]
        }

    def _concerned(self, found: Route, exchange: Exchange) -> JobScript | None:
        """The service a call is about: in its path (under its own kind when the path names one), or behind
        the deployment request it names, or the first of the environment it names."""
        if found.operation == "request_status":
            request = self.requests.get(exchange.query_value("deploymentRequestId"))
            return self.services.get(request.job_id) if request else None
        if found.operation in ("environment", "logs", "environment_links"):
            return next((s for s in self.services.values() if s.environment_id == found.path_id), None)
        service = self.services.get(found.path_id or "")
        if service is None or (found.kind is not None and service.kind != found.kind):
            return None
        return service if service.environment_id in self.places else None  # deleted with its environment

    def _logs_body(self, environment_id: str, version: str, now: float) -> list[dict[str, Any]]:
        """The environment's deployment log for one execution: every service's lines, mixed."""
        entries: list[dict[str, Any]] = []
        for request in self.requests.values():
            job = self.services[request.job_id]
            if job.environment_id == environment_id and request.execution_id == version:
                entries += bodies.log_entries(job, request, now)
        return entries

    def _deployments_of(self, job_id: str) -> list[DeploymentRequest]:
        return [r for r in self.requests.values() if r.job_id == job_id]

    def _latest(self, job_id: str) -> DeploymentRequest | None:
        mine = self._deployments_of(job_id)
        return max(mine, key=lambda r: r.created_at) if mine else None


Operation = Callable[[QoverySimulator, Route, Exchange, Fault | None, float], Answer]
_BY_OPERATION: dict[str, Operation] = {
    "request_status": QoverySimulator._request_status,
    "cancel": QoverySimulator._cancel,
    "environment": QoverySimulator._environment,
    "logs": QoverySimulator._logs,
    "status": QoverySimulator._status,
    "deploy": QoverySimulator._deploy,
    "history": QoverySimulator._history,
    "queue": QoverySimulator._queue,
    "service": QoverySimulator._service,
    **dict.fromkeys(
        ("clone", "delete_environment", "environment_status", "stages"), QoverySimulator._previews
    ),
    "links": QoverySimulator._links,
    "environment_links": QoverySimulator._environment_links,
}
