"""What Qovery says of names and places, read at most once a run whoever asks.

Name resolution (`resolve.py`), the plan (`plan.py`) and the labels (`labels.py`) share one `Directory`:
each list (`GET /organization`, `/organization/{id}/project`, `/project/{id}/environment`,
`/environment/{id}/{kind}s`), each service (`GET /{kind}/{id}`) and each environment (`GET /environment/
{id}`) is read once a run, and its answer, or its failure, is what every later asker gets. So are the links,
after the verdicts (`GET /{kind}/{id}/link`, `GET /environment/{id}/link`): the services' URLs (`urls.py`)
and a preview's own link (`preview.py`) share one read of an environment's. One exception:
a read given a budget (one try, for a label) that failed is tried again for an asker without one (its
answer decides what is deployed), with that asker's patience.

A service's own read decides what is deployed when its kind needs its source for this run's values
(`ServiceKind.needs_source`): that read is patient whoever asks first, the labels included, so that the
plan never reads it again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from qovery_job_deploy.api.models import EnvironmentInfo, Links, Named, ServiceInfo
from qovery_job_deploy.api.protocol import QoveryApi
from qovery_job_deploy.errors import ActionError
from qovery_job_deploy.kinds import ServiceKind

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class _Failed:
    """A read that failed, and whether it was patient (retried) or one try within a budget."""

    error: ActionError
    patient: bool


def _never(kind: ServiceKind) -> bool:
    return False


class Directory:
    def __init__(self, client: QoveryApi, *, decides: Callable[[ServiceKind], bool] = _never) -> None:
        """`decides`: whether a kind's `GET /{kind}/{id}` decides what is deployed this run (its source):
        then that read is patient, whoever asks first."""
        self.client = client
        self.decides = decides
        self._lists: dict[tuple[str, ...], list[Named] | _Failed] = {}
        self._services: dict[tuple[str, str], ServiceInfo | _Failed] = {}
        self._environments: dict[str, EnvironmentInfo | _Failed] = {}
        self._links: dict[tuple[str, str], Links | _Failed] = {}

    # -- the lists, for names -------------------------------------------------------------------------

    def organizations(self) -> list[Named]:
        return _once(self._lists, ("organizations",), None, lambda: self.client.organizations().named())

    def projects(self, organization_id: str, *, budget: float | None = None) -> list[Named]:
        """The organization's projects; with a budget, one try (a label's)."""
        return _once(
            self._lists,
            ("projects", organization_id),
            budget,
            lambda: self.client.projects(organization_id, budget=budget).named(),
        )

    def environments(self, project_id: str, *, fresh: bool = False) -> list[Named]:
        """The project's environments, with their modes; `fresh`: read again (one may have been made)."""
        if fresh:
            self._lists.pop(("environments", project_id), None)
        read = self.client.environments
        return _once(self._lists, ("environments", project_id), None, lambda: read(project_id).named())

    def services(self, kind: ServiceKind, environment_id: str, *, fresh: bool = False) -> list[Named]:
        """The environment's services of one kind (`GET /environment/{id}/{kind}s`); `fresh`: read again
        (a clone's, until they are all listed)."""
        if fresh:
            self._lists.pop(("services", kind.name, environment_id), None)
        return _once(
            self._lists,
            ("services", kind.name, environment_id),
            None,
            lambda: self.client.environment_services(kind, environment_id).named(),
        )

    # -- one service, one environment -----------------------------------------------------------------

    def service(self, kind: ServiceKind, service_id: str, budget: float | None = None) -> ServiceInfo:
        """`GET /{kind}/{id}`: its name and environment, and what it deploys from (`plan.py`). With a
        budget, one try, unless its answer decides the deployment (`decides`)."""
        if self.decides(kind):
            budget = None
        return _once(
            self._services,
            (kind.name, service_id),
            budget,
            lambda: self.client.service(kind, service_id, budget=budget),
        )

    def environment(self, environment_id: str, *, budget: float) -> EnvironmentInfo:
        """`GET /environment/{id}`: its name, project and organization, for labels and console links."""
        return _once(
            self._environments,
            environment_id,
            budget,
            lambda: self.client.environment(environment_id, budget=budget),
        )

    # -- where the services answer, after the verdicts: one try each -----------------------------------

    def links(self, kind: ServiceKind, service_id: str, *, budget: float) -> Links:
        """`GET /{kind}/{id}/link`: where one service answers."""
        read = self.client.links
        return _once(
            self._links, (kind.name, service_id), budget, lambda: read(kind, service_id, budget=budget)
        )

    def environment_links(self, environment_id: str, *, budget: float) -> Links:
        """`GET /environment/{id}/link`: where every service of the environment answers, the preview's own
        link among them."""
        read = self.client.environment_links
        return _once(
            self._links, ("environment", environment_id), budget, lambda: read(environment_id, budget=budget)
        )


def _once(memo: dict[K, V | _Failed], key: K, budget: float | None, read: Callable[[], V]) -> V:
    """What `read` answers, read once: its answer, or its failure, kept for every later asker; only a
    patient asker (no budget) tries again after a one-try failure."""
    known = memo.get(key)
    if known is None or (isinstance(known, _Failed) and not known.patient and budget is None):
        try:
            memo[key] = read()
        except ActionError as error:
            memo[key] = _Failed(error, patient=budget is None)
        known = memo[key]
    if isinstance(known, _Failed):
        raise known.error
    return known
