"""The kinds of Qovery service the step deploys, as a table: each kind is a row, so that the engine, the
client and the report have no branch per kind. Jobs are its only row so far.

A row says where the kind lives in the API (`/job/{id}/deploy`, `/environment/{id}/job/status`), which
force-events it accepts, and what its deploy request carries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

JOB_EVENTS = frozenset({"START", "STOP", "DELETE", "CRON"})


@dataclass(frozen=True)
class DeployRequest:
    """What a deployment asks Qovery for: the same for every job of the step."""

    image_tag: str | None = None
    git_commit_id: str | None = None
    force_event: str | None = None

    def described(self) -> str:
        """`image tag v1.2 (force-event START)`, for the log line that requests the deployment."""
        if self.image_tag:
            source = f"image tag {self.image_tag}"
        elif self.git_commit_id:
            source = f"commit {self.git_commit_id}"
        else:
            source = "the job's current source"
        return f"{source} (force-event {self.force_event})" if self.force_event else source


@dataclass(frozen=True)
class ServiceKind:
    name: str  # what users and the report call it
    segment: str  # its path segment in the API: /{segment}/{id}/status, /environment/{id}/{segment}
    events: frozenset[str]  # the `forceEvent` values it accepts
    body: Callable[[DeployRequest], dict[str, str]]  # its deploy request's body

    def params(self, request: DeployRequest) -> dict[str, str] | None:
        """The deploy request's query: the force-event, when one is asked for."""
        return {"forceEvent": request.force_event} if request.force_event else None


def _job_body(request: DeployRequest) -> dict[str, str]:
    """A job built from an image takes a tag; one built from git, a commit; neither: its current source."""
    if request.image_tag:
        return {"image_tag": request.image_tag}
    if request.git_commit_id:
        return {"git_commit_id": request.git_commit_id}
    return {}


JOB = ServiceKind("job", "job", JOB_EVENTS, _job_body)
KINDS = {kind.name: kind for kind in (JOB,)}
