"""What the engine needs of Qovery's API, as a protocol: the engine depends on this, not on the client.

`client.QoveryClient` is the one implementation: it speaks HTTP through `requests` (or through the tests'
in-process transport). Each operation retries as its docstring there says, never past the step's deadline.
"""

from __future__ import annotations

from typing import Protocol

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
from qovery_job_deploy.api.ratelimit import RateBudget
from qovery_job_deploy.kinds import Deploy, ServiceKind


class QoveryApi(Protocol):
    # -- deploying and following ------------------------------------------------------------------------
    def status(self, kind: ServiceKind, service_id: str) -> ServiceStatus: ...

    def deploy(self, kind: ServiceKind, service_id: str, deploy: Deploy) -> ServiceStatus: ...

    def cancel_request(self, deployment_request_id: str, *, budget: float) -> None: ...

    def history(self, kind: ServiceKind, service_id: str) -> History: ...

    def request_status(self, deployment_request_id: str) -> RequestStatus: ...

    def deployment_queue(self, service_id: str) -> DeploymentQueue: ...

    def environment_statuses(self, environment_id: str) -> EnvironmentStatuses: ...

    def environment_kind_statuses(self, kind: ServiceKind, environment_id: str) -> ServiceStatuses: ...

    # -- names ------------------------------------------------------------------------------------------
    def organizations(self) -> NamedList: ...

    def projects(self, organization_id: str, *, budget: float | None = None) -> NamedList: ...

    def environments(self, project_id: str) -> NamedList: ...

    def environment_services(self, kind: ServiceKind, environment_id: str) -> NamedList: ...

    def service(self, kind: ServiceKind, service_id: str, *, budget: float | None = None) -> ServiceInfo: ...

    def environment(self, environment_id: str, *, budget: float | None = None) -> EnvironmentInfo: ...

    # -- previews: clone, deploy in stage order, delete ------------------------------------------------
    def clone_environment(self, environment_id: str, name: str, *, mode: str) -> EnvironmentInfo: ...

    def delete_environment(self, environment_id: str) -> None: ...

    def environment_state(self, environment_id: str) -> EnvironmentState: ...

    def deployment_stages(self, environment_id: str) -> Stages: ...

    # -- explaining -------------------------------------------------------------------------------------
    def environment_logs(
        self, environment_id: str, version: str, *, budget: float, max_bytes: int
    ) -> tuple[bytes, bool]: ...

    def links(self, kind: ServiceKind, service_id: str, *, budget: float) -> Links: ...

    def environment_links(self, environment_id: str, *, budget: float) -> Links: ...

    # -- pacing -----------------------------------------------------------------------------------------
    def rate_budget(self) -> RateBudget | None:
        """Qovery's rate limit as the last answer that stated it said it (None: none did)."""
        ...
