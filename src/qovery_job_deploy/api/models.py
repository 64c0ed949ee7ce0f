"""What we read from Qovery, parsed leniently.

States are kept as plain strings: a newer API may add states, and an unknown one must be waited on, not
crash the parser. Extra fields are ignored, and a field that only feeds the report (steps, durations,
execution id) becomes None when it has an unexpected shape, rather than making the whole status
unreadable. Only `state` is strict: without it a status says nothing. Everything here came from the
network, so it is untrusted: presentation code escapes it.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)

from qovery_job_deploy.kinds import Source


def _none_if_invalid(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    try:
        return handler(value)
    except ValidationError:
        return None


def _valid_items(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """A list keeping the items that validate; anything else than a list becomes empty."""
    if not isinstance(value, list):
        return []
    kept = []
    for item in value:
        try:
            kept.extend(handler([item]))
        except ValidationError:
            continue
    return kept


OrNone = WrapValidator(_none_if_invalid)


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class StatusDetails(_Lenient):
    action: Annotated[str | None, OrNone] = None
    status: Annotated[str | None, OrNone] = None
    sub_action: Annotated[str | None, OrNone] = None


class Step(_Lenient):
    step_name: Annotated[str | None, OrNone] = None
    status: Annotated[str | None, OrNone] = None
    duration_sec: Annotated[float | None, OrNone] = None


class Steps(_Lenient):
    total_duration_sec: Annotated[float | None, OrNone] = None
    total_computing_duration_sec: Annotated[float | None, OrNone] = None
    details: Annotated[list[Step], WrapValidator(_valid_items)] = []


class ServiceStatus(_Lenient):
    """The `Status` schema of `GET /job/{id}/status` and of the deploy response."""

    id: Annotated[str | None, OrNone] = None
    state: str
    service_deployment_status: Annotated[str | None, OrNone] = None
    status_details: Annotated[StatusDetails | None, OrNone] = None
    deployment_request_id: Annotated[str | None, OrNone] = None
    deployment_requests_count: Annotated[int | None, OrNone] = None
    execution_id: Annotated[str | None, OrNone] = None
    steps: Annotated[Steps | None, OrNone] = None


class RequestStatus(_Lenient):
    """`EnvDeploymentStatus`: the state of one deployment request, whoever holds the job's status now."""

    deployment_request_id: Annotated[str | None, OrNone] = None
    environment_id: Annotated[str | None, OrNone] = None
    status: Annotated[str | None, OrNone] = None


class HistoryEntry(_Lenient):
    """One past deployment of the job (`DeploymentHistoryService`), read only for its duration.

    `details` is deliberately not modelled: the spec's `oneOf` for it is ambiguous (see tests/data).
    """

    status: Annotated[str | None, OrNone] = None
    total_duration: Annotated[str | None, OrNone] = None


class History(_Lenient):
    results: Annotated[list[HistoryEntry], WrapValidator(_valid_items)] = []


class QueuedIdentifier(_Lenient):
    deployment_request_id: Annotated[str | None, OrNone] = None
    service_id: Annotated[str | None, OrNone] = None


class QueuedRequest(_Lenient):
    identifier: Annotated[QueuedIdentifier | None, OrNone] = None


class DeploymentQueue(_Lenient):
    """`GET /service/{id}/deploymentQueue`: the requests still queued for a job, read only for their ids."""

    results: Annotated[list[QueuedRequest], WrapValidator(_valid_items)] = []

    def request_ids(self) -> list[str]:
        return [
            item.identifier.deployment_request_id
            for item in self.results
            if item.identifier is not None and item.identifier.deployment_request_id
        ]


class Named(_Lenient):
    """An organization, project, environment or job, read only for its id and name (and an environment's
    mode, which its list says as its own read does)."""

    id: Annotated[str | None, OrNone] = None
    name: Annotated[str | None, OrNone] = None
    mode: Annotated[str | None, OrNone] = None


class NamedList(_Lenient):
    """`{"results": [...]}` of `GET /organization`, `/organization/{id}/project`, ...: items with a name."""

    results: Annotated[list[Named], WrapValidator(_valid_items)] = []

    def named(self) -> list[Named]:
        return [item for item in self.results if item.id and item.name is not None]


class EnvironmentState(_Lenient):
    """`GET /environment/{id}/status` (`EnvironmentStatus`): the environment's own state."""

    id: Annotated[str | None, OrNone] = None
    state: Annotated[str | None, OrNone] = None


class StageService(_Lenient):
    service_id: Annotated[str | None, OrNone] = None
    is_skipped: Annotated[bool | None, OrNone] = None  # environment-level deployments leave it out


class Stage(_Lenient):
    """One deployment stage of an environment: its services deploy after those of the stages before it."""

    name: Annotated[str | None, OrNone] = None
    deployment_order: Annotated[int | None, OrNone] = None
    services: Annotated[list[StageService], WrapValidator(_valid_items)] = []


class Stages(_Lenient):
    """`GET /environment/{id}/deploymentStage`: the environment's stages."""

    results: Annotated[list[Stage], WrapValidator(_valid_items)] = []

    def ordered(self) -> list[Stage]:
        """In their `deployment_order` (a stage without one last, in the order listed)."""
        last = max((stage.deployment_order or 0 for stage in self.results), default=0) + 1
        return sorted(
            self.results, key=lambda stage: last if stage.deployment_order is None else stage.deployment_order
        )


class ServiceStatuses(_Lenient):
    """`GET /environment/{id}/{kind}/status`: the status of every service of one kind, in one read."""

    results: Annotated[list[ServiceStatus], WrapValidator(_valid_items)] = []


class EnvironmentStatuses(_Lenient):
    """`GET /environment/{id}/statuses`: every service's status, each kind in its list, in one read.

    Read generically: every list of the answer by its key (`applications`, `helms`, ...), whatever kinds a
    newer API adds; the environment's own status, not a list, is left out."""

    lists: dict[str, Annotated[list[ServiceStatus], WrapValidator(_valid_items)]] = {}

    @model_validator(mode="before")
    @classmethod
    def _every_list(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value  # not an object: the model says so
        return {"lists": {key: items for key, items in value.items() if isinstance(items, list)}}

    def of(self, key: str) -> list[ServiceStatus]:
        """The statuses of one kind, by its key (`ServiceKind.statuses_key`)."""
        return self.lists.get(key, [])


class Reference(_Lenient):
    id: Annotated[str | None, OrNone] = None


class GitRepository(_Lenient):
    deployed_commit_id: Annotated[str | None, OrNone] = None


class ImageSource(_Lenient):
    tag: Annotated[str | None, OrNone] = None


class GitSource(_Lenient):
    git_repository: Annotated[GitRepository | None, OrNone] = None


class ChartSource(_Lenient):
    chart_version: Annotated[str | None, OrNone] = None


class ServiceSource(_Lenient):
    """A job's `source` (image, or docker from git), a helm chart's (git, or a chart repository) or a
    terraform service's `terraform_files_source` (git)."""

    image: Annotated[ImageSource | None, OrNone] = None
    docker: Annotated[GitSource | None, OrNone] = None
    git: Annotated[GitSource | None, OrNone] = None
    repository: Annotated[ChartSource | None, OrNone] = None


class ServiceInfo(_Lenient):
    """`GET /{kind}/{id}` (`JobResponse`, `ApplicationResponse`, `ContainerResponse`, `HelmResponse`,
    `DatabaseResponse`, `TerraformResponse`): its name and environment, and what it runs now, where the
    kind says it."""

    name: Annotated[str | None, OrNone] = None
    environment: Annotated[Reference | None, OrNone] = None
    tag: Annotated[str | None, OrNone] = None  # a container's image tag
    git_repository: Annotated[GitRepository | None, OrNone] = None  # an application's
    source: Annotated[ServiceSource | None, OrNone] = None  # a job's or a helm chart's
    terraform_files_source: Annotated[ServiceSource | None, OrNone] = None  # a terraform service's (git)

    def current(self) -> Source:
        """What the service deploys from and runs now; None where this answer does not say."""
        source = self.source or self.terraform_files_source or ServiceSource()
        if source.image is not None:
            return Source("image", image_tag=source.image.tag)
        git = source.docker or source.git
        if git is not None:
            return Source("git", git_commit_id=_commit(git.git_repository))
        if source.repository is not None:
            return Source("chart", chart_version=source.repository.chart_version)
        if self.git_repository is not None:
            return Source("git", git_commit_id=self.git_repository.deployed_commit_id)
        if self.tag is not None:
            return Source("image", image_tag=self.tag)
        return Source()


def _commit(repository: GitRepository | None) -> str | None:
    return repository.deployed_commit_id if repository else None


class EnvironmentInfo(_Lenient):
    """`GET /environment/{id}` (`Environment`, a clone's answer too): its id, name and mode
    (`EnvironmentModeEnum`: PRODUCTION, PREVIEW, ...; what a GitHub deployment record says of it, and what
    a deletion refuses), and the ids of console links."""

    id: Annotated[str | None, OrNone] = None
    name: Annotated[str | None, OrNone] = None
    mode: Annotated[str | None, OrNone] = None
    organization: Annotated[Reference | None, OrNone] = None
    project: Annotated[Reference | None, OrNone] = None


class Link(_Lenient):
    """One of `GET /{kind}/{id}/link`'s or `GET /environment/{id}/link`'s `Link`s: where a service answers
    (its Qovery domain, a custom domain). Its `url` is untrusted text: `urls.web_url` checks it."""

    service_id: Annotated[str | None, OrNone] = None
    url: Annotated[str | None, OrNone] = None
    is_qovery_domain: Annotated[bool | None, OrNone] = None
    is_default: Annotated[bool | None, OrNone] = None


class Links(_Lenient):
    """`LinkResponseList`: a service's links, or every service's of an environment."""

    results: Annotated[list[Link], WrapValidator(_valid_items)] = []
