"""The routes the simulator serves, as a table, and the shape of an answer."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from functools import lru_cache
from typing import Any

from qovery_job_deploy.simulator.scripts import KIND_ROWS, KINDS, Fault

# The routes served: (method, path pattern, operation). The operation names the faults a script plans.
# `(?P<kind>...)` is the kind of service in the path, `(?P<id>...)` the id the call is about.
_KIND = rf"(?P<kind>{'|'.join(KINDS)})"
# The kinds with a status endpoint of their own (`Kind.own_status`).
_STATUS_KIND = rf"(?P<kind>{'|'.join(kind.name for kind in KIND_ROWS.values() if kind.own_status)})"
# The kinds with links (`Kind.links`).
_LINK_KIND = rf"(?P<kind>{'|'.join(kind.name for kind in KIND_ROWS.values() if kind.links)})"
_ID = r"(?P<id>[^/]+)"
ROUTES = [
    ("GET", rf"/{_STATUS_KIND}/{_ID}/status", "status"),
    ("POST", rf"/{_KIND}/{_ID}/deploy", "deploy"),
    ("GET", rf"/{_KIND}/{_ID}/deploymentHistoryV2", "history"),
    ("GET", r"/environment/deploymentStatus", "request_status"),
    ("GET", rf"/service/{_ID}/deploymentQueue", "queue"),
    ("GET", r"/organization", "organizations"),
    ("GET", rf"/organization/{_ID}/project", "projects"),
    ("GET", rf"/project/{_ID}/environment", "environments"),
    ("GET", rf"/environment/{_ID}/{_KIND}", "environment_services"),
    ("GET", rf"/environment/{_ID}/{_STATUS_KIND}/status", "environment_kind_statuses"),
    ("GET", rf"/environment/{_ID}/statuses", "environment_statuses"),
    ("GET", rf"/{_KIND}/{_ID}", "service"),
    ("GET", rf"/environment/{_ID}", "environment"),
    ("GET", rf"/environment/{_ID}/logs", "logs"),
    ("POST", rf"/deploymentQueue/{_ID}/cancelDeployment", "cancel"),
    # Previews (`environments.py`): clone, delete, an environment's own status and its stages.
    ("POST", rf"/environment/{_ID}/clone", "clone"),
    ("DELETE", rf"/environment/{_ID}", "delete_environment"),
    ("GET", rf"/environment/{_ID}/status", "environment_status"),
    ("GET", rf"/environment/{_ID}/deploymentStage", "stages"),
    ("GET", rf"/{_LINK_KIND}/{_ID}/link", "links"),
    ("GET", rf"/environment/{_ID}/link", "environment_links"),
]
_COMPILED = [(method, re.compile(pattern), operation) for method, pattern, operation in ROUTES]
NAME_OPERATIONS = (
    "organizations",
    "projects",
    "environments",
    "environment_services",
    "environment_kind_statuses",
    "environment_statuses",
)


@dataclass(frozen=True)
class Route:
    """What a request is: its operation, the id in its path, and the kind of service the path names."""

    operation: str
    path_id: str | None = None
    kind: str | None = None


@lru_cache(maxsize=4096)  # `calls` routes every exchange again, while the simulator serves
def route(method: str, path: str) -> Route:
    """The route of a request; operation "unknown" for anything not served."""
    path = "/" + path.strip("/")
    for route_method, pattern, operation in _COMPILED:
        if method == route_method and (match := pattern.fullmatch(path)):
            found = match.groupdict()
            return Route(operation, found.get("id"), found.get("kind"))
    return Route("unknown")


@dataclass
class Answer:
    """What the API answers. `status` 0 means the connection is closed unanswered; `wire` is a fault that
    only a socket can play (a delay, a trickle, an answer cut short, a hang)."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    wire: Fault | None = None


def json_answer(status: int, body: dict[str, Any] | list[Any]) -> Answer:
    return Answer(status, json.dumps(body).encode(), {"Content-Type": "application/json"})


def fault_answer(fault: Fault) -> Answer:
    """The answer an injected fault gives instead of the API's (status 0: closed unanswered)."""
    if fault.kind == "reset":
        return Answer(0)
    if fault.kind == "truncated":
        return Answer(200, b'{"id": "', {"Content-Type": "application/json"})
    headers = dict(fault.headers)
    headers.setdefault("Content-Type", "text/html" if fault.body.startswith("<") else "text/plain")
    if fault.retry_after_date_in is not None:
        headers["Retry-After"] = formatdate(time.time() + fault.retry_after_date_in, usegmt=True)
    return Answer(fault.status, fault.body.encode(), headers)
