"""The Qovery API client: one method per API operation, each with its retries, never past the deadline.

Sending and sorting failures is `transport.py`'s; reading the answers, `responses.py`'s. Every answer goes
through `_answered`, which also reads the rate limit it states (`ratelimit.py`): `rate_budget()` is the last
one seen, for the follow loop to pace its reads by.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, TypeVar

import requests
from pydantic import BaseModel, ValidationError

from qovery_job_deploy.api.errors import RefusedError, TransientError
from qovery_job_deploy.api.models import (
    DeploymentQueue,
    EnvironmentInfo,
    EnvironmentState,
    EnvironmentStatuses,
    History,
    Links,
    NamedList,
    RequestStatus,
    ServiceInfo,
    ServiceStatus,
    ServiceStatuses,
    Stages,
)
from qovery_job_deploy.api.ratelimit import RateBudget, read_budget
from qovery_job_deploy.api.responses import check_response, clean_text
from qovery_job_deploy.api.retry import DEFAULT_POLICY, RetryPolicy, call_with_retries
from qovery_job_deploy.api.transport import MIN_TIMEOUT, READ_TIMEOUT, Sender
from qovery_job_deploy.clock import Clock, Deadline
from qovery_job_deploy.kinds import Deploy, ServiceKind
from qovery_job_deploy.text import one_line

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

HISTORY_BUDGET = 3.0  # the history only paces the polling: not worth holding the first status read for


# Before the first POST: how long reads may keep failing, and how many tries a refusal or a dropped
# connection gets (the backoff between them then sums to 4 to 8 s), before the step says the network is
# at fault.
PRE_POST_SECONDS = 60.0
PRE_POST_ATTEMPTS = 5


class QoveryClient:
    """Each public method is one API operation, with its retries (never past `deadline`)."""

    def __init__(
        self,
        api_url: str,
        authorization: str,
        *,
        clock: Clock,
        deadline: Deadline,
        environ: Mapping[str, str],
        policy: RetryPolicy = DEFAULT_POLICY,
        on_retry: Callable[[TransientError, float], None] = lambda error, delay: None,
        read_timeout: float = READ_TIMEOUT,
        transport: requests.adapters.BaseAdapter | None = None,
    ) -> None:
        """`environ` gives the proxy and the CA bundle; `transport`, when given, replaces the network."""
        self._sender = Sender(
            api_url, authorization, environ=environ, read_timeout=read_timeout, transport=transport
        )
        self._clock = clock
        self._deadline = deadline
        self._policy = policy
        self._on_retry = on_retry
        # Until the first POST nothing is at stake: a silent or refusing network ends the step within
        # PRE_POST_SECONDS, not after the whole `timeout`. After it, every read is as patient as `timeout`.
        self._patient_from = clock.now() + PRE_POST_SECONDS
        self._posted = False
        self._budget: RateBudget | None = None

    def rate_budget(self) -> RateBudget | None:
        """The rate limit as the last answer that stated one said it; None until one does."""
        return self._budget

    def close(self) -> None:
        self._sender.close()

    # -- operations -------------------------------------------------------------------------------

    def status(self, kind: ServiceKind, service_id: str) -> ServiceStatus:
        return self._read(f"/{kind.segment}/{service_id}/status", ServiceStatus, f"{kind.name} {service_id}")

    def deploy(self, kind: ServiceKind, service_id: str, deploy: Deploy) -> ServiceStatus:
        """POST /{kind}/{id}/deploy, retried only when Qovery surely did not act on it."""
        path, what = f"/{kind.segment}/{service_id}/deploy", f"{kind.name} {service_id}"
        self._posted = True  # from here on a deployment may be at stake: today's patience
        return self._retrying(
            lambda: self._call("POST", path, ServiceStatus, what=what, params=deploy.query, body=deploy.body),
            idempotent=False,
        )

    def cancel_request(self, deployment_request_id: str, *, budget: float) -> None:
        """Cancel one deployment request (never the whole environment's), in one try within `budget`."""
        path = f"/deploymentQueue/{deployment_request_id}/cancelDeployment"
        left = self._left(budget, beyond_deadline=True)
        response = self._sender.send("POST", path, params=None, body={}, left=left)
        self._answered(response, what=f"deployment request {deployment_request_id}", method="POST")

    def history(self, kind: ServiceKind, service_id: str) -> History:
        """The last deployments. One try: it only tunes the polling, so it is not worth waiting for."""
        path = f"/{kind.segment}/{service_id}/deploymentHistoryV2"
        return self._call("GET", path, History, what=f"{kind.name} {service_id}", budget=HISTORY_BUDGET)

    def request_status(self, deployment_request_id: str) -> RequestStatus:
        return self._read(
            "/environment/deploymentStatus",
            RequestStatus,
            f"deployment request {deployment_request_id}",
            params={"deploymentRequestId": deployment_request_id},
        )

    def deployment_queue(self, service_id: str) -> DeploymentQueue:
        """The requests still queued for a service (before they start, they may not show in its status)."""
        return self._read(f"/service/{service_id}/deploymentQueue", DeploymentQueue, f"service {service_id}")

    def environment_statuses(self, environment_id: str) -> EnvironmentStatuses:
        """Every service's status in an environment, whatever its kind, in one read: one request per
        interval, however many services are followed and of whatever mix."""
        path = f"/environment/{environment_id}/statuses"
        return self._read(path, EnvironmentStatuses, f"environment {environment_id}")

    def environment_kind_statuses(self, kind: ServiceKind, environment_id: str) -> ServiceStatuses:
        """Every status of one kind in an environment in one read."""
        path = f"/environment/{environment_id}/{kind.segment}/status"
        return self._read(path, ServiceStatuses, f"environment {environment_id}")

    def organizations(self) -> NamedList:
        return self._read("/organization", NamedList, "the organizations")

    def projects(self, organization_id: str, *, budget: float | None = None) -> NamedList:
        """The organization's projects. With a budget, one try (a label's project name, as `service`)."""
        path, what = f"/organization/{organization_id}/project", f"organization {organization_id}"
        if budget is None:
            return self._read(path, NamedList, what)
        return self._call("GET", path, NamedList, what=what, budget=budget)

    def environments(self, project_id: str) -> NamedList:
        return self._read(f"/project/{project_id}/environment", NamedList, f"project {project_id}")

    def environment_services(self, kind: ServiceKind, environment_id: str) -> NamedList:
        path = f"/environment/{environment_id}/{kind.segment}"
        return self._read(path, NamedList, f"environment {environment_id}")

    def service(self, kind: ServiceKind, service_id: str, *, budget: float | None = None) -> ServiceInfo:
        """A service's name, environment and current source. With a budget, one try (names and links
        only); without, retried like every read (its source decides what is deployed)."""
        path, what = f"/{kind.segment}/{service_id}", f"{kind.name} {service_id}"
        if budget is None:
            return self._read(path, ServiceInfo, what)
        return self._call("GET", path, ServiceInfo, what=what, budget=budget)

    def environment(self, environment_id: str, *, budget: float | None = None) -> EnvironmentInfo:
        """The environment's name, mode, project and organization. With a budget, one try (names and
        links, as `service`); without, retried like every read (a preview's mode decides its deletion)."""
        path, what = f"/environment/{environment_id}", f"environment {environment_id}"
        if budget is None:
            return self._read(path, EnvironmentInfo, what)
        return self._call("GET", path, EnvironmentInfo, what=what, budget=budget)

    # -- previews ---------------------------------------------------------------------------------

    def clone_environment(self, environment_id: str, name: str, *, mode: str) -> EnvironmentInfo:
        """`POST /environment/{id}/clone` with the project's deployment rules applied: the new environment.
        Sent again only when Qovery surely did not act, as a deploy; a 409 is a RefusedError at once, not
        retried: the name may be taken now, which only the caller can tell (by reading the list again)."""
        path, what = f"/environment/{environment_id}/clone", f"environment {environment_id}"
        body = {"name": name, "mode": mode, "apply_deployment_rule": True}
        self._posted = True  # from here on a change is at stake: today's patience
        return self._retrying(
            lambda: self._call("POST", path, EnvironmentInfo, what=what, body=body, conflict=True),
            idempotent=False,
        )

    def delete_environment(self, environment_id: str) -> None:
        """`DELETE /environment/{id}` (204): retried as a read would be, since deleting twice deletes once."""
        path, what = f"/environment/{environment_id}", f"environment {environment_id}"
        self._posted = True

        def send() -> None:
            response = self._sender.send("DELETE", path, params=None, body=None, left=self._left())
            self._answered(response, what=what, method="DELETE")

        self._retrying(send, idempotent=True)

    def environment_state(self, environment_id: str) -> EnvironmentState:
        """`GET /environment/{id}/status`: the environment's own state (DELETE_QUEUED, DELETING, ...)."""
        path = f"/environment/{environment_id}/status"
        return self._read(path, EnvironmentState, f"environment {environment_id}")

    def deployment_stages(self, environment_id: str) -> Stages:
        """`GET /environment/{id}/deploymentStage`: the order in which its services deploy."""
        path = f"/environment/{environment_id}/deploymentStage"
        return self._read(path, Stages, f"environment {environment_id}")

    def environment_logs(
        self, environment_id: str, version: str, *, budget: float, max_bytes: int
    ) -> tuple[bytes, bool]:
        """The raw body of one deployment's log, and whether it was longer than `max_bytes` (then cut).

        One try within `budget`, which may run past the deadline (the log is read once the verdict is
        known). Streamed, so that a huge body costs at most `max_bytes` of memory.
        """
        path = f"/environment/{environment_id}/logs"
        started = self._clock.now()
        left = self._left(budget, beyond_deadline=True)
        response = self._sender.send(
            "GET", path, params={"version": version}, body=None, left=left, stream=True
        )
        with response:
            self._answered(response, what=f"environment {environment_id}", method="GET")
            left = max(MIN_TIMEOUT, budget - (self._clock.now() - started))
            return self._sender.read_body(response, max_bytes, path=path, left=left, budget=budget)

    def links(self, kind: ServiceKind, service_id: str, *, budget: float) -> Links:
        """Where one service answers (`GET /{kind}/{id}/link`): one try within `budget`, which may run past
        the deadline (it is read once the verdict is known)."""
        path, what = f"/{kind.segment}/{service_id}/link", f"{kind.name} {service_id}"
        return self._call("GET", path, Links, what=what, budget=budget, beyond_deadline=True)

    def environment_links(self, environment_id: str, *, budget: float) -> Links:
        """Where every service of an environment answers, in one read; one try, as `links`."""
        path, what = f"/environment/{environment_id}/link", f"environment {environment_id}"
        return self._call("GET", path, Links, what=what, budget=budget, beyond_deadline=True)

    # -- plumbing ---------------------------------------------------------------------------------

    def _read(self, path: str, model: type[M], what: str, params: dict[str, str] | None = None) -> M:
        """A GET, retried like every read."""
        return self._retrying(
            lambda: self._call("GET", path, model, what=what, params=params), idempotent=True
        )

    def _retrying(self, call: Callable[[], T], *, idempotent: bool) -> T:
        deadline, policy = self._deadline.at, self._policy
        quick = not self._posted and self._patient_from < deadline
        if quick:  # before the first POST: a minute at most, and few tries for refusals and drops
            deadline = self._patient_from
            policy = replace(policy, attempts=min(policy.attempts, PRE_POST_ATTEMPTS))
        try:
            return call_with_retries(
                call,
                idempotent=idempotent,
                deadline=deadline,
                clock=self._clock,
                policy=policy,
                on_retry=self._on_retry,
                patient_until=self._deadline.at,  # a 429 is waited out until `timeout`, even before the POST
            )
        except TransientError as error:
            if quick and not error.rate_limited:
                error.deadline_reached = False  # the network gave up, not the step's `timeout`
            raise error.with_hint() from None

    def _call(
        self,
        method: str,
        path: str,
        model: type[M],
        *,
        what: str,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        budget: float | None = None,
        beyond_deadline: bool = False,
        conflict: bool = False,
    ) -> M:
        """One request and its answer, read as `model`. `conflict`: a 409 is a RefusedError (its caller
        decides what it means) rather than a TransientError retried."""
        left = self._left(budget, beyond_deadline=beyond_deadline)
        response = self._sender.send(method, path, params=params, body=body, left=left)
        if conflict and response.status_code == 409:
            raise RefusedError(
                f"Qovery refused {method} {path}: an operation is in progress, or a name is taken (HTTP 409)",
                409,
            )
        self._answered(response, what=what, method=method)
        try:
            return model.model_validate(clean_text(response.json()))
        except (ValueError, ValidationError):
            # A proxy's HTML page, a truncated body. A 2xx means Qovery did act on a POST; the body just
            # cannot say what came of it.
            raise TransientError(
                f"{method} {path}: unreadable response (HTTP {response.status_code}, "
                f"{one_line(response.headers.get('Content-Type', 'no content type'), 60)})",
                acted=True if method == "POST" else None,
            ) from None

    def _answered(self, response: requests.Response, *, what: str, method: str) -> None:
        """Every answer, whatever its status: the rate limit it states, then its status sorted (a 429 that
        says no wait of its own waits until the limit last seen resets)."""
        now = self._clock.now()
        self._budget = read_budget(response.headers, now) or self._budget
        reset_in = self._budget.reset_in(now) if self._budget is not None else None
        check_response(response, what=what, method=method, reset_in=reset_in)

    def _left(self, budget: float | None = None, *, beyond_deadline: bool = False) -> float:
        """The seconds one try may take: until the deadline, unless it has a budget of its own."""
        left = self._deadline.left()
        if not self._posted:
            left = min(left, self._patient_from - self._clock.now())
        if budget is not None:  # its own time limit: shorter (the history) or past the deadline (a cancel)
            left = budget if beyond_deadline else min(budget, left)
        return max(MIN_TIMEOUT, left)
