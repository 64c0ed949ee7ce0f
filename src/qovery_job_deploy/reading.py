"""Reading the statuses of the services followed: one read per environment, whatever the kinds, with
fallbacks by kind, then service by service."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from qovery_job_deploy.api.errors import ApiError, TransientError
from qovery_job_deploy.api.models import ServiceStatus
from qovery_job_deploy.context import Context
from qovery_job_deploy.errors import ActionError
from qovery_job_deploy.kinds import ServiceKind


class Followed(Protocol):
    """What the reader needs of a followed service (deploy.ServiceRun)."""

    @property
    def service_id(self) -> str: ...

    @property
    def kind(self) -> ServiceKind: ...

    @property
    def environment_id(self) -> str | None: ...


@dataclass
class Reading:
    statuses: dict[str, ServiceStatus] = field(default_factory=dict)
    failures: dict[str, ActionError] = field(default_factory=dict)


class StatusReader:
    """The statuses of several services: one `GET /environment/{id}/statuses` per environment where two
    or more share one, whatever their kinds; else one read per service. An environment whose joint read
    fails is read by kind (`GET /environment/{id}/{kind}/status`) from then on, and a kind whose list
    fails, service by service. A kind without a status endpoint of its own (`ServiceKind.own_status`) is
    read from its environment's statuses, even alone: when that read fails, its status is not read."""

    def __init__(self, ctx: Context) -> None:
        self.client, self.log = ctx.client, ctx.log
        self._joint_failed: set[str] = set()
        self._kind_failed: set[tuple[str, str]] = set()

    def read(self, runs: Sequence[Followed]) -> Reading:
        reading = Reading()
        alone: list[Followed] = []
        for environment_id, group in _by_environment(runs).items():
            if environment_id is not None and (len(group) >= 2 or _without_own_status(group)):
                alone += self._read_jointly(environment_id, group, reading)
            else:
                alone += group
        for run in alone:
            try:
                reading.statuses[run.service_id] = self.one(run)
            except ActionError as error:
                reading.failures[run.service_id] = error
        return reading

    def one(self, run: Followed) -> ServiceStatus:
        """One service's status, read by itself: `GET /{kind}/{id}/status`, or, for a kind that has none,
        its environment's statuses."""
        if run.kind.own_status:
            return self.client.status(run.kind, run.service_id)
        if run.environment_id is None:
            raise ApiError(
                f"a {run.kind.noun}'s status is only in its environment's statuses, and the environment of "
                f"{run.service_id} is not known: give `environment`"
            )
        statuses = self.client.environment_statuses(run.environment_id).of(run.kind.statuses_key)
        if (status := next((one for one in statuses if one.id == run.service_id), None)) is None:
            raise _unlisted(run)
        return status

    def _read_jointly(self, environment_id: str, group: list[Followed], reading: Reading) -> list[Followed]:
        """Read the environment's statuses into `reading`; return the services it did not cover."""
        joint_only = _without_own_status(group)
        others = [run for run in group if run.kind.own_status]
        if environment_id in self._joint_failed and not joint_only:
            return self._read_by_kind(environment_id, group, reading)
        try:
            statuses = self.client.environment_statuses(environment_id)
        except ActionError as error:
            _reraise_at_deadline(error)
            if others and environment_id not in self._joint_failed:
                self.log.info(f"Reading statuses kind by kind: the environment's read failed ({error})")
            self._joint_failed.add(environment_id)
            for run in joint_only:  # no other read has their status
                reading.failures[run.service_id] = error
            return self._read_by_kind(environment_id, others, reading)
        left: list[Followed] = []
        for kind, runs in _by_kind(group).items():
            left += _take(statuses.of(kind.statuses_key), runs, reading)
        for run in _without_own_status(left):
            reading.failures[run.service_id] = _unlisted(run)
        return [run for run in left if run.kind.own_status]

    def _read_by_kind(self, environment_id: str, group: list[Followed], reading: Reading) -> list[Followed]:
        left: list[Followed] = []
        for kind, runs in _by_kind(group).items():
            if len(runs) < 2 or (environment_id, kind.name) in self._kind_failed:
                left += runs
                continue
            try:
                statuses = self.client.environment_kind_statuses(kind, environment_id).results
            except ActionError as error:
                _reraise_at_deadline(error)
                self._kind_failed.add((environment_id, kind.name))
                self.log.info(
                    f"Reading {kind.noun} statuses one by one: the environment's read failed ({error})"
                )
                left += runs
                continue
            left += _take(statuses, runs, reading)
        return left


def _by_environment(runs: Sequence[Followed]) -> dict[str | None, list[Followed]]:
    groups: dict[str | None, list[Followed]] = {}
    for run in runs:
        groups.setdefault(run.environment_id, []).append(run)
    return groups


def _by_kind(runs: list[Followed]) -> dict[ServiceKind, list[Followed]]:
    groups: dict[ServiceKind, list[Followed]] = {}
    for run in runs:
        groups.setdefault(run.kind, []).append(run)
    return groups


def _take(statuses: list[ServiceStatus], runs: list[Followed], reading: Reading) -> list[Followed]:
    """Put each run's status from `statuses` into `reading`; return the runs it did not cover."""
    by_id = {status.id: status for status in statuses if status.id}
    for run in runs:
        if run.service_id in by_id:
            reading.statuses[run.service_id] = by_id[run.service_id]
    return [run for run in runs if run.service_id not in by_id]


def _without_own_status(runs: list[Followed]) -> list[Followed]:
    return [run for run in runs if not run.kind.own_status]


def _unlisted(run: Followed) -> ApiError:
    return ApiError(
        f"the statuses of environment {run.environment_id} list no {run.kind.noun} {run.service_id}"
    )


def _reraise_at_deadline(error: ActionError) -> None:
    """A joint read that ran into the deadline ends the wait; any other failure falls back."""
    if isinstance(error, TransientError) and error.deadline_reached:
        raise error
