"""The routes the simulator serves, as a table, and the shape of an answer."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from qovery_job_deploy.simulator.scripts import Fault

# The routes served: (method, path pattern, operation). The operation names the faults a script plans.
ROUTES = [
    ("GET", r"/job/([^/]+)/status", "status"),
    ("POST", r"/job/([^/]+)/deploy", "deploy"),
    ("GET", r"/job/([^/]+)/deploymentHistoryV2", "history"),
    ("GET", r"/environment/deploymentStatus", "request_status"),
    ("GET", r"/service/([^/]+)/deploymentQueue", "queue"),
    ("GET", r"/organization", "organizations"),
    ("GET", r"/organization/([^/]+)/project", "projects"),
    ("GET", r"/project/([^/]+)/environment", "environments"),
    ("GET", r"/environment/([^/]+)/job", "environment_jobs"),
    ("GET", r"/environment/([^/]+)/job/status", "environment_job_statuses"),
    ("GET", r"/job/([^/]+)", "job"),
    ("GET", r"/environment/([^/]+)", "environment"),
    ("GET", r"/environment/([^/]+)/logs", "logs"),
    ("POST", r"/deploymentQueue/([^/]+)/cancelDeployment", "cancel"),
]
_COMPILED = [(method, re.compile(pattern), operation) for method, pattern, operation in ROUTES]
NAME_OPERATIONS = (
    "organizations",
    "projects",
    "environments",
    "environment_jobs",
    "environment_job_statuses",
)


def route(method: str, path: str) -> tuple[str, str | None]:
    """(operation name, id in the path) for a request; ("unknown", None) for anything not served."""
    path = "/" + path.strip("/")
    for route_method, pattern, operation in _COMPILED:
        if method == route_method and (match := pattern.fullmatch(path)):
            return operation, (match.group(1) if match.groups() else None)
    return "unknown", None


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
