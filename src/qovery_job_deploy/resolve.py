"""Names to ids: organization, project, environment and jobs, the way people name them.

Every list is read at most once per run, and a UUID skips its read. Names match case-insensitively after
trimming. A name that matches nothing, or several things, is an input error (exit code 2) that lists what
does exist, closest first: resolution ends before any deployment is requested, so a typo in the third job
leaves nothing deployed. Every name problem of a run is reported at once, one line each (a level that
fails, an unknown environment, leaves the names below it unchecked: there is nothing to check them in), so
that two typos cost one run, not two. Names from the API are shown on one line, control characters folded.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import TypeVar

from qovery_job_deploy.api.errors import RefusedError, short_error
from qovery_job_deploy.api.models import EnvironmentInfo, Named, ServiceInfo
from qovery_job_deploy.api.protocol import QoveryApi
from qovery_job_deploy.errors import ActionError, InputError
from qovery_job_deploy.identity import ServiceIdentity, canonical_uuid, is_uuid
from qovery_job_deploy.inputs.names import PLAIN, Platform, looks_like_a_token
from qovery_job_deploy.kinds import JOB, KINDS, ServiceKind
from qovery_job_deploy.log import Log
from qovery_job_deploy.text import one_line

MAX_LISTED = 10
# Each identity read (names and console ids of a job given by UUID): worth a moment, not a stalled start.
IDENTITY_BUDGET_SECONDS = 5.0
T = TypeVar("T")
R = TypeVar("R")
# `GET /{kind}/{id}`: (kind, id, budget or None for the client's own patience) -> what it says.
ReadService = Callable[[ServiceKind, str, float | None], ServiceInfo]


@dataclass(frozen=True)
class Place:
    """Where jobs are looked up: an environment, and the names around it as far as they are known."""

    environment_id: str
    environment_name: str | None = None
    project_id: str | None = None
    project_name: str | None = None
    organization_id: str | None = None


@dataclass(frozen=True)
class Scope:
    """The inputs that say where: each a name, a UUID, or None."""

    organization: str | None
    project: str | None
    environment: str | None


class Resolver:
    def __init__(
        self,
        client: QoveryApi,
        log: Log,
        given: Mapping[str, str] | None = None,
        platform: Platform = PLAIN,
    ) -> None:
        """`given` says, per input, its value and where it came from, for the error messages; `platform`
        says how to set an input that is missing, in its users' words."""
        self.client = client
        self.log = log
        self.given = dict(given or {})
        self.platform = platform
        # One read per list per run, whatever asks for it.
        self._organizations = cache(client.organizations)
        self._projects = cache(client.projects)
        self._environments = cache(client.environments)
        self._services = cache(self._list_services)
        self._service_infos: dict[tuple[str, str], ServiceInfo] = {}
        self._named: set[str] = set()  # the services whose name the log has shown

    def service_info(self, kind: ServiceKind, service_id: str, budget: float | None = None) -> ServiceInfo:
        """`GET /{kind}/{id}`, read once per service per run, whoever asks: the kind of a bare UUID, the
        names and console ids, what the service deploys (`plan.py`). A read that failed is not kept: the
        next asker tries again, with its own patience."""
        key = (kind.name, service_id)
        if key not in self._service_infos:
            self._service_infos[key] = self.client.service(kind, service_id, budget=budget)
        return self._service_infos[key]

    def jobs(self, refs: Sequence[str], scope: Scope) -> list[ServiceIdentity]:
        """One identity per job, in the order given; raises InputError before anything is deployed."""
        return self.services([(JOB.name, ref) for ref in refs], scope, input_name="jobs")

    def services(
        self, refs: Sequence[tuple[str | None, str]], scope: Scope, *, input_name: str = "services"
    ) -> list[ServiceIdentity]:
        """One identity per service, in the order given. Each ref is (its kind, or None for any kind;
        a name or UUID). Raises InputError before anything is deployed."""
        if scope.environment is None and all(is_uuid(ref) for _, ref in refs):
            found, problems = each(refs, lambda ref: self._by_uuid(*ref, input_name))
        else:
            place = self._place(scope)
            found, problems = each(refs, lambda ref: self._service(*ref, place, input_name))
        twice = _named_twice(found, input_name, self.given.get(input_name))
        if problems := problems + twice:  # every one, one line each
            raise InputError("\n".join(dict.fromkeys(problems)))
        return complete_identities(self.client, self.service_info, found, self.log)

    def _list_services(self, kind_name: str, environment_id: str) -> list[Named]:
        return self.client.environment_services(KINDS[kind_name], environment_id).named()

    # -- each level ----------------------------------------------------------------------------------

    def _place(self, scope: Scope) -> Place:
        if scope.environment is None or is_uuid(scope.environment):  # settings ask for it with a job name
            return Place((scope.environment or "").strip().lower())
        organization_id: str | None = None
        if scope.project is not None and is_uuid(scope.project):
            projects = [Named(id=scope.project.strip().lower())]
        elif scope.project is not None:
            organization_id = self._organization_id(scope)
            projects = [self._project(scope.project, organization_id)]
        else:
            organization_id = self._organization_id(scope)
            projects = self._projects(organization_id).named()
        candidates = [
            (project, environment)
            for project in projects
            for environment in self._environments(str(project.id)).named()
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
        place = Place(str(environment.id), environment.name, str(project.id), project.name, organization_id)
        self.log.info(f"environment {environment.name} -> {environment.id}")
        return place

    def _organization_id(self, scope: Scope) -> str:
        if scope.organization is not None and is_uuid(scope.organization):
            return scope.organization.strip().lower()
        organizations = self._organizations().named()
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
            self._projects(organization_id).named(),
            name_of=_name,
            where="the organization",
            given=self.given.get("project"),
        )
        self.log.info(f"project {project.name} -> {project.id}")
        return project

    def _service(self, kind: str | None, ref: str, place: Place, input_name: str) -> ServiceIdentity:
        kinds = [KINDS[kind]] if kind else list(KINDS.values())
        candidates = [(k, item) for k in kinds for item in self._services(k.name, place.environment_id)]
        if is_uuid(ref):
            service_id = ref.strip().lower()
            found = next(((k, item) for k, item in candidates if item.id == service_id), None)
            if found is not None:
                return _identity(service_id, found[1].name, place, found[0].name)
            if kind is not None:  # not listed (yet): its own reads will tell
                return _identity(service_id, None, place, kind)
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
        return _identity(str(item.id), item.name, place, found_kind.name)

    def _of_another_type(self, kind: str | None, ref: str, place: Place, input_name: str) -> str:
        """When a name of one type matches nothing, whether a service of another type has it: `--jobs api`
        for the container `api`. Read only on this error path (each list once), never on the way to a
        deployment; a list that cannot be read says nothing here."""
        if kind is None or looks_like_a_token(ref):
            return ""
        wanted = ref.strip().casefold()
        for other in KINDS.values():
            if other.name == kind:
                continue
            try:
                names = self._services(other.name, place.environment_id)
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
                info = self.service_info(candidate, service_id)
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
    # A value with a token's shape (a token pasted into the wrong input) is never shown.
    said = (
        "(not shown: it looks like a token)" if looks_like_a_token(wanted.strip()) else repr(wanted.strip())
    )
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


def _identity(service_id: str, name: str | None, place: Place, kind: str) -> ServiceIdentity:
    return ServiceIdentity(
        service_id,
        name,
        place.environment_id,
        place.environment_name,
        place.project_id,
        place.project_name,
        place.organization_id,
        kind,
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


# -- completing identities: best effort, for the report and console links --------------------------------


def look_up_identity(
    client: QoveryApi,
    read_service: ReadService,
    service_id: str,
    log: Log,
    environments: dict[str, EnvironmentInfo] | None = None,
    kind: ServiceKind = JOB,
    projects: dict[str, dict[str, str]] | None = None,
) -> ServiceIdentity:
    """The service's name and environment, then the environment's name, project and organization, and the
    project's name. `environments` and `projects` keep what was read, so that services of one environment
    cost one environment read, and of one organization one read of its projects."""
    seen = {} if environments is None else environments
    seen_projects = {} if projects is None else projects
    job = None
    try:
        job = read_service(kind, service_id, IDENTITY_BUDGET_SECONDS)
        environment_id = canonical_uuid(job.environment.id if job.environment else None)
        if not environment_id:
            return ServiceIdentity(service_id, name=job.name, kind=kind.name)
        if environment_id not in seen:
            seen[environment_id] = client.environment(environment_id, budget=IDENTITY_BUDGET_SECONDS)
        environment = seen[environment_id]
    except ActionError as error:
        if token_refused(error, first_read=job is None):
            raise  # no read will work: the run ends saying why, before it says anything else
        # Whatever was read still names it: its name when its own read answered, else its id.
        name = job.name if job is not None else None
        shown = f"it is called {name!r} alone" if name else "it is called by its id"
        log.info(f"The {kind.noun}'s names and console links are unavailable ({short_error(error)}); {shown}")
        return ServiceIdentity(service_id, name=name, kind=kind.name)
    project_id = canonical_uuid(environment.project.id if environment.project else None)
    organization_id = canonical_uuid(environment.organization.id if environment.organization else None)
    return ServiceIdentity(
        service_id,
        name=job.name,
        environment_id=environment_id,
        environment_name=environment.name,
        project_id=project_id,
        project_name=_project_name(client, organization_id, project_id, seen_projects, log),
        organization_id=organization_id,
        kind=kind.name,
    )


def _project_name(
    client: QoveryApi,
    organization_id: str | None,
    project_id: str | None,
    seen: dict[str, dict[str, str]],
    log: Log,
) -> str | None:
    """The project's name, for the one label form (`migrate (shop / production)`): the environment's read
    gives only its id. One read per organization per run; without it, the label names the environment."""
    if not organization_id or not project_id:
        return None
    if organization_id not in seen:
        try:
            listed = client.projects(organization_id, budget=IDENTITY_BUDGET_SECONDS).named()
        except ActionError as error:
            log.info(f"The project's name is unavailable ({short_error(error)}); labels name the environment")
            listed = []
        seen[organization_id] = {canonical_uuid(item.id) or "": item.name or "" for item in listed}
    return seen[organization_id].get(project_id) or None


def token_refused(error: BaseException, *, first_read: bool) -> bool:
    """The token itself refused: a 401 (rejected), or a 403 on the service's own read (not allowed to see
    it): what no later read or deployment can get past, unlike a 403 on its environment alone."""
    return isinstance(error, RefusedError) and (
        error.status_code == 401 or (error.status_code == 403 and first_read)
    )


def complete_identities(
    client: QoveryApi, read_service: ReadService, identities: list[ServiceIdentity], log: Log
) -> list[ServiceIdentity]:
    """Fill in what name resolution left unknown (all of it, for a job given by UUID): the names for the
    report, the ids for console links and for reading jobs of one environment together."""
    environments: dict[str, EnvironmentInfo] = {}
    projects: dict[str, dict[str, str]] = {}
    return [_complete(client, read_service, identity, log, environments, projects) for identity in identities]


def _complete(
    client: QoveryApi,
    read_service: ReadService,
    identity: ServiceIdentity,
    log: Log,
    environments: dict[str, EnvironmentInfo],
    projects: dict[str, dict[str, str]],
) -> ServiceIdentity:
    names = (
        "name",
        "environment_id",
        "environment_name",
        "project_id",
        "project_name",
        "organization_id",
    )
    if all(getattr(identity, name) for name in names):
        return identity
    found = look_up_identity(
        client, read_service, identity.service_id, log, environments, KINDS[identity.kind], projects
    )
    filled = {
        name: getattr(found, name)
        for name in names
        if getattr(identity, name) is None and getattr(found, name) is not None
    }
    return replace(identity, **filled)
