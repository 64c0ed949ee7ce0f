"""Names to ids: organization, project, environment and services, the way people name them.

Every list is read at most once per run (the `Directory` keeps it), and a UUID skips its read. Names
match case-insensitively after trimming. A name that matches nothing, or several things, is an input error
(exit code 2) that lists what does exist, closest first: resolution ends before any deployment is
requested, so a typo in the third job leaves nothing deployed. Every name problem of a run is reported at
once, one line each (a level that fails, an unknown environment, leaves the names below it unchecked: there
is nothing to check them in), so that two typos cost one run, not two. Names from the API are shown on one
line, control characters folded. What resolution leaves unknown (the names around a service given by UUID)
`labels.py` completes, best effort.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from qovery_job_deploy.api.errors import RefusedError
from qovery_job_deploy.api.models import Named
from qovery_job_deploy.directory import Directory
from qovery_job_deploy.errors import ActionError, InputError
from qovery_job_deploy.identity import ServiceIdentity, canonical_uuid, is_uuid
from qovery_job_deploy.inputs.names import PLAIN, Platform, holds_a_token
from qovery_job_deploy.kinds import JOB, KINDS
from qovery_job_deploy.log import Log
from qovery_job_deploy.text import one_line

MAX_LISTED = 10
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Place:
    """Where jobs are looked up: an environment, and the names around it as far as they are known."""

    environment_id: str
    environment_name: str | None = None
    project_id: str | None = None
    project_name: str | None = None
    organization_id: str | None = None
    environment_mode: str | None = None


@dataclass(frozen=True)
class Scope:
    """The inputs that say where: each a name, a UUID, or None."""

    organization: str | None
    project: str | None
    environment: str | None


class Resolver:
    def __init__(
        self,
        directory: Directory,
        log: Log,
        given: Mapping[str, str] | None = None,
        platform: Platform = PLAIN,
    ) -> None:
        """`directory` reads each list (and each service) once a run, for whoever asks; `given` says, per
        input, its value and where it came from, for the error messages; `platform` says how to set an
        input that is missing, in its users' words."""
        self.directory = directory
        self.log = log
        self.given = dict(given or {})
        self.platform = platform
        self._named: set[str] = set()  # the services whose name the log has shown

    def jobs(self, refs: Sequence[str], scope: Scope) -> list[ServiceIdentity]:
        """One identity per job, in the order given; raises InputError before anything is deployed."""
        return self.services([(JOB.name, ref) for ref in refs], scope, input_name="jobs")

    def services(
        self,
        refs: Sequence[tuple[str | None, str]],
        scope: Scope,
        *,
        input_name: str = "services",
        place: Place | None = None,
    ) -> list[ServiceIdentity]:
        """One identity per service, in the order given, with the names resolution found (`labels.py`
        completes the rest). Each ref is (its kind, or None for any kind; a name or UUID); `place`, when
        given, is where they are (a preview's environment), else the scope says. Raises InputError before
        anything is deployed."""
        if place is None and scope.environment is None and all(is_uuid(ref) for _, ref in refs):
            found, problems = each(refs, lambda ref: self._by_uuid(*ref, input_name))
        else:
            where = place or self._place(scope)
            found, problems = each(refs, lambda ref: self._service(*ref, where, input_name))
        twice = _named_twice(found, input_name, self.given.get(input_name))
        if problems := problems + twice:  # every one, one line each
            raise InputError("\n".join(dict.fromkeys(problems)))
        return found

    # -- each level ----------------------------------------------------------------------------------

    def _place(self, scope: Scope) -> Place:
        if scope.environment is None or is_uuid(scope.environment):  # settings ask for it with a job name
            return Place((scope.environment or "").strip().lower())
        organization_id, projects = self.projects(scope)
        candidates = [
            (project, environment)
            for project in projects
            for environment in self.directory.environments(str(project.id))
        ]
        project, environment = pick(
            "environment",
            scope.environment,
            candidates,
            name_of=lambda pair: pair[1].name or "",
            where=f"project {_quoted(projects[0])}"
            if len(projects) == 1
            else "every project of the organization",
            describe=lambda pair: f"{_shown(pair[1].name)} (id {pair[1].id}, project {_shown(pair[0].name)})",
            given=self.given.get("environment"),
        )
        place = Place(
            str(environment.id),
            environment.name,
            str(project.id),
            project.name,
            organization_id,
            environment.mode,
        )
        self.log.info(f"environment {environment.name} -> {environment.id}")
        return place

    def projects(self, scope: Scope) -> tuple[str | None, list[Named]]:
        """Where an environment given by name is looked up: the organization's id (None when the project
        is given by UUID: not read) and the project, or every project of the organization."""
        if scope.project is not None and is_uuid(scope.project):
            return None, [Named(id=scope.project.strip().lower())]
        organization_id = self._organization_id(scope)
        if scope.project is not None:
            return organization_id, [self._project(scope.project, organization_id)]
        return organization_id, self.directory.projects(organization_id)

    def _organization_id(self, scope: Scope) -> str:
        if scope.organization is not None and is_uuid(scope.organization):
            return scope.organization.strip().lower()
        organizations = self.directory.organizations()
        if scope.organization is None:
            if len(organizations) != 1:
                raise InputError(
                    f"Missing input `organization` ({self.platform.unset('organization')}): the API token "
                    f"sees {len(organizations)} organizations"
                    f"{': ' + ', '.join(_listed(organizations)) if organizations else ''}. "
                    f"Fix: give the organization's name or UUID ({self.platform.how_to_set('organization')})."
                )
            return str(organizations[0].id)
        organization = pick(
            "organization",
            scope.organization,
            organizations,
            name_of=_name,
            where="the API token's reach",
            given=self.given.get("organization"),
        )
        self.log.info(f"organization {organization.name} -> {organization.id}")
        return str(organization.id)

    def _project(self, ref: str, organization_id: str) -> Named:
        project = pick(
            "project",
            ref,
            self.directory.projects(organization_id),
            name_of=_name,
            where="the organization",
            given=self.given.get("project"),
        )
        self.log.info(f"project {project.name} -> {project.id}")
        return project

    def _service(self, kind: str | None, ref: str, place: Place, input_name: str) -> ServiceIdentity:
        kinds = [KINDS[kind]] if kind else list(KINDS.values())
        candidates = [(k, item) for k in kinds for item in self.directory.services(k, place.environment_id)]
        if is_uuid(ref):
            service_id = ref.strip().lower()
            found = next(((k, item) for k, item in candidates if item.id == service_id), None)
            if found is not None:
                return identity_in(place, service_id, found[1].name, found[0].name)
            if kind is not None:  # not listed (yet): its own reads will tell
                return identity_in(place, service_id, None, kind)
            raise self._no_such_id(input_name, service_id, place)
        noun = kinds[0].noun if len(kinds) == 1 else "service"
        try:
            found_kind, item = pick(
                input_name,
                ref,
                candidates,
                name_of=lambda pair: pair[1].name or "",
                where=f"environment {_shown(place.environment_name or place.environment_id)}",
                describe=lambda pair: f"{_shown(pair[1].name)} ({pair[0].noun}, id {pair[1].id})",
                what=noun,
                given=self.given.get(input_name),
                fix=""
                if kind
                else " or prefix the name with its type (container:NAME, application:NAME, ...)",
            )
        except InputError as error:
            hint = self._of_another_type(kind, ref, place, input_name)
            raise InputError(
                str(error).replace(" Fix:", f" {hint} Fix:", 1) if hint else str(error)
            ) from None
        if str(item.id) not in self._named:  # each name once, though it be given twice
            self._named.add(str(item.id))
            self.log.info(f"{found_kind.noun} {item.name} -> {item.id}")
        return identity_in(place, str(item.id), item.name, found_kind.name)

    def _of_another_type(self, kind: str | None, ref: str, place: Place, input_name: str) -> str:
        """When a name of one type matches nothing, whether a service of another type has it: `--jobs api`
        for the container `api`. Read only on this error path (each list once), never on the way to a
        deployment; a list that cannot be read says nothing here."""
        if kind is None or holds_a_token(ref):
            return ""
        wanted = ref.strip().casefold()
        for other in KINDS.values():
            if other.name == kind:
                continue
            try:
                names = self.directory.services(other, place.environment_id)
            except ActionError:
                continue
            if any((item.name or "").strip().casefold() == wanted for item in names):
                how = f"`services: {other.name}:{ref.strip()}`" if input_name == "services" else "`services`"
                return f"{_shown(ref.strip())} is {other.article()} there: deploy it with {how}."
        return ""

    def _by_uuid(self, kind: str | None, ref: str, input_name: str) -> ServiceIdentity:
        """A service by UUID with no environment given: its kind, when not given, is the one whose
        `GET /{kind}/{id}` knows it."""
        service_id = ref.strip().lower()
        if kind is not None:
            return ServiceIdentity(service_id, kind=kind)
        for candidate in KINDS.values():
            try:
                info = self.directory.service(candidate, service_id)
            except RefusedError as error:
                if error.status_code == 404:
                    continue
                raise
            environment_id = canonical_uuid(info.environment.id if info.environment else None)
            return ServiceIdentity(service_id, info.name, environment_id, kind=candidate.name)
        raise self._no_such_id(input_name, service_id, None)

    def _no_such_id(self, input_name: str, service_id: str, place: Place | None) -> InputError:
        source = self.given.get(input_name) or f"from {self.platform.where(input_name)}"
        where = "the API token's reach"
        if place:
            where = f"environment {_shown(place.environment_name or place.environment_id)}"
        return InputError(
            f"Invalid input `{input_name}` ({source}): no service has the id {service_id} in {where}. "
            "Fix: check the UUID, or give the service's type (container:UUID, application:UUID, ...)."
        )


def each(items: Sequence[T], resolve: Callable[[T], R]) -> tuple[list[R], list[str]]:
    """`resolve` of every item that resolves, and the problem of each that does not: the whole list is
    checked before the run stops, so that every typo shows in one run."""
    found: list[R] = []
    problems: list[str] = []
    for item in items:
        try:
            found.append(resolve(item))
        except InputError as error:
            problems.append(str(error))
    return found, problems


def pick(
    input_name: str,
    wanted: str,
    items: Sequence[T],
    *,
    name_of: Callable[[T], str],
    where: str,
    describe: Callable[[T], str] | None = None,
    what: str | None = None,
    given: str | None = None,
    fix: str = "",
) -> T:
    """The one item whose name matches `wanted` (case-insensitive, trimmed), or an InputError that helps."""
    noun = what or input_name
    key = wanted.strip().casefold()
    matches = [item for item in items if name_of(item).strip().casefold() == key]
    if len(matches) == 1:
        return matches[0]
    # A value with a token in it (a token pasted into the wrong input, `'qov_...'`) is never shown.
    said = "(not shown: it looks like a token)" if holds_a_token(wanted.strip()) else repr(wanted.strip())
    source = given or (said if said.startswith("(") else f"`{one_line(wanted, 80)}`")  # where it came from
    if matches:
        shown = [
            describe(item) if describe else f"{_shown(name_of(item))} (id {_id_of(item)})" for item in matches
        ]
        raise InputError(
            f"Invalid input `{input_name}` ({source}): the {noun} name {said} matches "
            f"{len(matches)} in {where}: {'; '.join(shown)}. Fix: give the UUID of the one you mean{fix}."
        )
    names = sorted({name_of(item) for item in items})
    closest = difflib.get_close_matches(wanted.strip(), names, n=MAX_LISTED, cutoff=0.0)
    listed = ", ".join(_shown(name) for name in closest) if closest else "none"
    more = f" (and {len(names) - len(closest)} more)" if len(names) > len(closest) else ""
    raise InputError(
        f"Invalid input `{input_name}` ({source}): no {noun} is named {said} in {where}. "
        f"Names there, closest first: {listed}{more}. Fix: use one of these names, or the {noun}'s UUID."
    )


def identity_in(place: Place, service_id: str, name: str | None, kind: str) -> ServiceIdentity:
    """A service of `place`, with the names of its environment, project and organization known there."""
    return ServiceIdentity(
        service_id,
        name,
        place.environment_id,
        place.environment_name,
        place.project_id,
        place.project_name,
        place.organization_id,
        kind,
        place.environment_mode,
    )


def _named_twice(identities: list[ServiceIdentity], input_name: str, given: str | None = None) -> list[str]:
    """A problem for each service given twice (by name and by UUID, say), once each; `given`: the input's
    value and where it came from."""
    seen: set[str] = set()
    twice: dict[str, ServiceIdentity] = {}
    for identity in identities:
        if identity.service_id in seen:
            twice[identity.service_id] = identity
        seen.add(identity.service_id)
    return [
        f"Invalid input `{input_name}`{f' ({given})' if given else ''}: {KINDS[item.kind].noun} "
        f"{_shown(item.label())} is named twice. Fix: list each once."
        for item in twice.values()
    ]


def _name(item: Named) -> str:
    return item.name or ""


def _id_of(item: object) -> str:
    return str(getattr(item, "id", ""))


def _quoted(item: Named) -> str:
    return repr(item.name) if item.name else str(item.id)


def _listed(items: list[Named]) -> list[str]:
    return [f"{_shown(item.name)} (id {item.id})" for item in items[:MAX_LISTED]]


def _shown(name: str | None) -> str:
    """A name from the API in a message: one line, no control character, bounded."""
    return one_line(name or "", 60)
