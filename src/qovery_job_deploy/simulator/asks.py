"""What a deploy request may ask, by kind, as the spec says; anything else Qovery answers 400.

- application: `DeployRequest {git_commit_id}`, required;
- container: `ContainerDeployRequest {image_tag}`, required;
- helm: `HelmDeployRequest {chart_version | git_commit_id, values_override_git_commit_id}` or no body,
  chart_version and git_commit_id exclusive; query `forceEvent` only `DIFF`;
- database: no body; query `applyImmediately`, a boolean;
- terraform: `TerraformDeployRequest {git_commit_id, action}`, the commit required ("You must provide a
  git commit id"), `action` PLAN, FORCE_UNLOCK, MIGRATE_STATE or null;
- job: its body taken as it comes (the step's long-standing business); query `forceEvent` one of START,
  STOP, DELETE, CRON (`JobForceEvent`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from qovery_job_deploy.simulator.events import JOB_EVENTS

HELM_FIELDS = ("chart_version", "git_commit_id", "values_override_git_commit_id")


class BadRequest(ValueError):
    """The request breaks the spec: Qovery answers 400."""


def read_ask(kind: str, body: bytes, query: dict[str, list[str]]) -> dict[str, Any]:
    """What a deploy request asks: {"body": its JSON (None without a body), "query": {name: value}}."""
    asked: dict[str, Any] = {
        "body": _json(body, lenient=kind == "job"),
        "query": {name: values[0] for name, values in query.items() if values},
    }
    RULES[kind](asked["body"], asked["query"])
    return asked


def _json(body: bytes, *, lenient: bool) -> Any:
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except ValueError as error:
        if lenient:
            return body.decode(errors="replace")
        raise BadRequest(f"the body is not JSON: {error}") from error


def _requires(name: str) -> Callable[[Any, dict[str, str]], None]:
    def rule(body: Any, query: dict[str, str]) -> None:
        if not isinstance(body, dict) or not isinstance(body.get(name), str) or not body[name]:
            raise BadRequest(f"{name} is required")

    return rule


def _job(body: Any, query: dict[str, str]) -> None:
    if query.get("forceEvent", "START") not in JOB_EVENTS:
        raise BadRequest(f"forceEvent must be one of {', '.join(JOB_EVENTS)}")


def _helm(body: Any, query: dict[str, str]) -> None:
    if query.get("forceEvent", "DIFF") != "DIFF":
        raise BadRequest("forceEvent must be DIFF")
    if body is None:
        return
    if not isinstance(body, dict) or any(not isinstance(body.get(name, ""), str) for name in HELM_FIELDS):
        raise BadRequest("the body must be a HelmDeployRequest")
    if body.get("chart_version") and body.get("git_commit_id"):
        raise BadRequest("chart_version and git_commit_id cannot both be set")


def _database(body: Any, query: dict[str, str]) -> None:
    if query.get("applyImmediately", "true") not in ("true", "false"):
        raise BadRequest("applyImmediately must be true or false")


TERRAFORM_ACTIONS = ("PLAN", "FORCE_UNLOCK", "MIGRATE_STATE")


def _terraform(body: Any, query: dict[str, str]) -> None:
    _requires("git_commit_id")(body, query)
    if body.get("action") not in (None, *TERRAFORM_ACTIONS):
        raise BadRequest(f"action must be one of {', '.join(TERRAFORM_ACTIONS)}")


# What each kind's deploy request must be, by the kind's name (`scripts.KIND_ROWS`).
RULES: dict[str, Callable[[Any, dict[str, str]], None]] = {
    "job": _job,
    "application": _requires("git_commit_id"),
    "container": _requires("image_tag"),
    "helm": _helm,
    "database": _database,
    "terraform": _terraform,
}
