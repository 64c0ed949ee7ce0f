"""What the simulator plays: scripted services, injected faults, places, and the records of each exchange.

A script is one service of any kind Qovery deploys (`kind`: a row of `KIND_ROWS`, whose name is also its
path segment in the API). Its `job_name` is the service's name, whatever its kind (the field kept its first
name; `name` reads it too). Applications and containers build before they deploy (BUILDING, which can end
in BUILD_ERROR); jobs and terraform services execute (EXECUTING).
"""

from __future__ import annotations

import re
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Kind:
    """One kind of service the simulator serves, as a row. Its name is its path segment (`/{kind}/{id}`,
    `/environment/{id}/{kind}`), its `ServiceTypeEnum` value the name in capitals, its list in
    `EnvironmentStatuses` the name plus "s". Its `GET /{kind}/{id}` body is `services.py`'s, what its
    deploy request may ask `asks.py`'s, each by the kind's name."""

    name: str
    timeline: tuple[tuple[float, str], ...]  # what a deployment goes through when a script has none
    steps: tuple[str, ...]  # the steps of a deployment after its queueing (`ServiceStepMetricNameEnum`)
    # Whether Qovery serves `GET /{kind}/{id}/status` and `GET /environment/{id}/{kind}/status` for it
    # (else its status is only in `GET /environment/{id}/statuses`).
    own_status: bool = True
    # Whether Qovery serves `GET /{kind}/{id}/link` for it (where it answers); its services then have a
    # default link on a Qovery domain unless their script gives theirs.
    links: bool = False


_EXECUTED = ((0.0, "QUEUED"), (0.3, "DEPLOYING"), (0.6, "EXECUTING"), (1.0, "DEPLOYED"))
_BUILT = ((0.0, "QUEUED"), (0.3, "BUILDING"), (0.6, "DEPLOYING"), (1.0, "DEPLOYED"))
_DEPLOYED = ((0.0, "QUEUED"), (0.5, "DEPLOYING"), (1.0, "DEPLOYED"))
KIND_ROWS = {
    kind.name: kind
    for kind in (
        Kind("job", _EXECUTED, ("EXECUTING",)),
        Kind("application", _BUILT, ("GIT_CLONE", "BUILD", "DEPLOYMENT"), links=True),
        Kind("container", _BUILT, ("MIRROR_IMAGE", "DEPLOYMENT"), links=True),
        Kind("helm", _DEPLOYED, ("DEPLOYMENT",), links=True),
        Kind("database", _DEPLOYED, ("DEPLOYMENT",)),
        Kind("terraform", _EXECUTED, ("GIT_CLONE", "EXECUTING"), own_status=False),
    )
}
KINDS = tuple(KIND_ROWS)
# Every list `EnvironmentStatuses` requires, whether or not the simulator serves its kind.
STATUS_LISTS = ("applications", "containers", "jobs", "databases", "helms", "terraforms")

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
# The built-in services of other kinds, in the same environment.
API_CONTAINER = "66666666-6666-4666-8666-666666666666"
WEB_APPLICATION = "88888888-8888-4888-8888-888888888888"
BROKEN_APPLICATION = "99999999-9999-4999-8999-999999999999"  # its build fails (BUILD_ERROR)
INGRESS_HELM = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
POSTGRES_DATABASE = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
NETWORK_TERRAFORM = "dddddddd-dddd-4ddd-8ddd-dddddddddddd"

# Faults played on the wire, after the work is done: only a real socket can misbehave this way.
WIRE_FAULTS = ("delay", "short", "trickle")
QUEUED_STATES = ("QUEUED", "DEPLOYMENT_QUEUED", "STOP_QUEUED", "DELETE_QUEUED")
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
# Qovery's diagnosis of an image that did not build.
BUILD_ERROR: dict[str, str] = {
    "tag": "BUILDER_DOCKER_CANNOT_BUILD_CONTAINER_IMAGE",
    "user_log_message": "The container image of the application could not be built.",
    "hint_message": "Check the build output above: a step of the Dockerfile failed.",
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
    `acted`: for a deploy or a clone, whether Qovery acts before an "http" or "reset" fault strikes
    (transport faults always act). In a service's fault queue, `None` lets one call through untouched.
    """

    kind: str = "http"
    status: int = 500
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    acted: bool = False
    # For "http": also send `Retry-After` as an HTTP date this many seconds after the answer is sent.
    retry_after_date_in: float | None = None


@dataclass(frozen=True)
class Link:
    """One address a service answers on, as `GET /{kind}/{id}/link` lists it (`Link`): its Qovery domain's
    root (the default), a port of it (`p8080-...`), or a custom domain."""

    url: str
    is_qovery_domain: bool = True
    is_default: bool = True
    internal_port: int = 8080
    external_port: int = 443


@dataclass
class JobScript:
    """How one service behaves (a job unless `kind` says otherwise). Timeline offsets are seconds after the
    deploy request was accepted; without a timeline, the kind's default (`Kind.timeline`)."""

    job_id: str
    timeline: list[tuple[float, str]] = field(default_factory=list)
    kind: str = "job"
    # The timeline of a forced event (STOP, DELETE, CRON), when not the deploy's in the event's own
    # states (`events.EVENTS`).
    event_timelines: dict[str, list[tuple[float, str]]] = field(default_factory=dict)
    # Right after a POST, the job's status keeps describing the previous request for this long.
    stale_seconds: float = 0.0
    # While stale, the status does not count the new request either: only the deployment queue shows it.
    stale_hides_count: bool = False
    # When our request ends, a newer one (someone else's) takes over the job's status at once.
    taken_over: bool = False
    previous_state: str = "DEPLOYED"
    previous_request_id: str | None = field(default_factory=lambda: str(uuid.uuid4()))
    environment_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    # Per operation ("deploy", "status", "request_status", "history", "queue", "service", "environment",
    # "logs", "links", "environment_links"): faults to play in order.
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
    # What GET /{kind}/{id}, GET /environment/{id} and the name lookups tell (names, ids of console links).
    job_name: str = "migrate"  # the service's name, whatever its kind
    environment_name: str = "production"
    project_id: str = "5e0f1a2b-0000-4000-8000-00000000beef"
    organization_id: str = "0a0b0c0d-0000-4000-8000-000000000001"
    # Lines the job prints, in its deployment log between the state lines (hostile ones, for tests).
    log_lines: list[str] = field(default_factory=list)
    # Qovery's `error` object on the last entry of a failed deployment's log.
    log_error: dict[str, str] | None = field(default_factory=lambda: dict(DEFAULT_ERROR))
    # The source GET /{kind}/{id} shows until a deployment of ours succeeds (then the one it asked for):
    # an application's or terraform service's deployed commit (and a helm chart's from git), a container's
    # or job's image tag,
    # a helm chart's version (None: the chart comes from git, at `current_commit`). No run of 8 characters
    # of the tests' token (qov_..._0123456789) in it: the suite's leak scan would flag a printed commit.
    current_commit: str = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d"
    current_image_tag: str = "v1"
    current_chart_version: str | None = "1.0.0"
    job_origin: str = "image"  # a job's source: "image" (a registry's image) or "git" (built from git)
    # Where it answers, for a kind that has links; None: one default link on a Qovery domain
    # (`https://api-66666666.qovery.example`), [] none (no public port).
    links: list[Link] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind of service {self.kind!r}: one of {', '.join(KINDS)}")
        if not self.timeline:
            self.timeline = list(KIND_ROWS[self.kind].timeline)

    @property
    def name(self) -> str:
        return self.job_name

    @property
    def service_type(self) -> str:
        """The kind as the API's `ServiceTypeEnum` says it (JOB, APPLICATION, ...)."""
        return self.kind.upper()

    def answers_on(self) -> list[Link]:
        """Its links: none for a kind without (a job, a database), else its script's or the default one."""
        if not KIND_ROWS[self.kind].links:
            return []
        if self.links is not None:
            return list(self.links)
        host = "-".join(re.findall(r"[a-z0-9]+", self.job_name.lower())) or "service"
        return [Link(f"https://{host[:40]}-{self.job_id[:8]}.qovery.example")]


@dataclass(frozen=True)
class Place:
    """An environment and what it belongs to, for the name lookups (`GET /organization`, ...)."""

    environment_id: str
    environment_name: str = "production"
    project_id: str = "5e0f1a2b-0000-4000-8000-00000000beef"
    project_name: str = "shop"
    organization_id: str = "0a0b0c0d-0000-4000-8000-000000000001"
    organization_name: str = "acme"
    environment_mode: str = "PRODUCTION"  # DEVELOPMENT, PREVIEW, PRODUCTION or STAGING


@dataclass
class DeploymentRequest:
    """One deployment request. Its timeline's offsets count from `start`: the moment its environment's
    queue lets it run (`queue.schedule`), `created_at` when nothing else of the environment is deploying."""

    id: str
    job_id: str
    created_at: float
    timeline: list[tuple[float, str]]
    execution_id: str = field(default_factory=lambda: f"exec-{uuid.uuid4().hex[:12]}")
    canceled_at: float | None = None
    # What the deploy request asked: {"body": its JSON (None without one), "query": {name: value}}.
    asked: dict[str, Any] = field(default_factory=dict)
    action: str = "DEPLOY"  # its `status_details.action`, from its forceEvent (`events.EVENTS`)
    queued_state: str = "QUEUED"  # its state while it waits for its turn
    started_at: float | None = None  # set by `queue.schedule`

    @property
    def start(self) -> float:
        """When it leaves its environment's queue and its timeline begins."""
        return self.created_at if self.started_at is None else self.started_at

    def state_at(self, now: float) -> str:
        if self.canceled_at is not None and now >= self.canceled_at:
            return "CANCELED"
        if self.waiting_at(now):
            return self.queued_state
        state = self.queued_state
        for offset, name in self.timeline:
            # The same sum as `ends_at`: at the very moment a deployment ends, its state is the end's too.
            if now >= self.start + offset:
                state = name
        return state

    def waiting_at(self, now: float) -> bool:
        """Still in its environment's queue, behind another deployment."""
        return now < self.start and (self.canceled_at is None or now < self.canceled_at)

    def ends_at(self) -> float:
        natural_end = self.start + self.timeline[-1][0]
        return natural_end if self.canceled_at is None else min(natural_end, self.canceled_at)


@dataclass
class Exchange:
    """One request and its answer, as seen on the wire (for contract validation and assertions)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    received_at: float = 0.0  # the simulator's wall clock (time.time when served; virtual in-process)
    status: int = 0
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: bytes = b""

    def query_value(self, name: str) -> str:
        return (self.query.get(name) or [""])[0]


def token_is_valid(authorization: str) -> bool:
    scheme, _, token = authorization.partition(" ")
    if scheme == "Token":
        return token.startswith("qov_")
    if scheme == "Bearer":
        return token.count(".") == 2 and all(token.split("."))
    return False
