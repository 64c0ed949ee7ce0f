"""The names around each service, best effort: for the report's labels and the console links.

What name resolution left unknown (all of it, for a service given by UUID) is read from the `Directory`:
the service's own read for its name and environment, the environment's for its name, project and
organization, the organization's projects for the project's name; only what is still unknown, and each
read at most once a run. A failure here is one info line, never a verdict: the service is called by what
is known. Only the token itself refused (`api.errors.token_refused`) ends the run, since no later read or
deployment can get past it.
"""

from __future__ import annotations

from dataclasses import replace

from qovery_job_deploy.api.errors import short_error, token_refused
from qovery_job_deploy.api.models import EnvironmentInfo, ServiceInfo
from qovery_job_deploy.directory import Directory
from qovery_job_deploy.errors import ActionError
from qovery_job_deploy.identity import ServiceIdentity, canonical_uuid
from qovery_job_deploy.kinds import KINDS
from qovery_job_deploy.log import Log

# Each label read (names and console ids of a service given by UUID): worth a moment, not a stalled start.
IDENTITY_BUDGET_SECONDS = 5.0
NAMES = ("name", "environment_id", "environment_name", "project_id", "project_name", "organization_id")
# Filled in when a read that was made anyway says it, never read for: the environment's mode.
EXTRAS = ("environment_mode",)


def complete_identities(
    directory: Directory, identities: list[ServiceIdentity], log: Log
) -> list[ServiceIdentity]:
    """Fill in what name resolution left unknown: the names for the report, the ids for console links and
    for reading services of one environment together."""
    said: set[str] = set()  # the organizations whose projects could not be read, said once each
    return [_complete(directory, identity, log, said) for identity in identities]


def _complete(directory: Directory, identity: ServiceIdentity, log: Log, said: set[str]) -> ServiceIdentity:
    if all(getattr(identity, name) for name in NAMES):
        return identity
    found = look_up_identity(directory, identity, log, said)
    if found.environment_id and identity.environment_id and found.environment_id != identity.environment_id:
        # Its own read places it elsewhere: nothing known of the given environment is its own.
        return replace(found, name=identity.name or found.name)
    filled = {
        name: getattr(found, name)
        for name in NAMES + EXTRAS
        if getattr(identity, name) is None and getattr(found, name) is not None
    }
    return replace(identity, **filled)


def look_up_identity(
    directory: Directory, known: ServiceIdentity, log: Log, said: set[str]
) -> ServiceIdentity:
    """The service's name and environment (when not known), then the environment's name, project and
    organization (when not known), and the project's name: read only for what `known` lacks. `said`: the
    organizations whose projects could not be read, said once each."""
    kind = KINDS[known.kind]
    service_id = known.service_id
    service: ServiceInfo | None = None
    own_read = not known.name or not known.environment_id  # the service's own read is wanted
    name, environment_id = known.name, known.environment_id
    try:
        if own_read:
            service = directory.service(kind, service_id, IDENTITY_BUDGET_SECONDS)
            name = service.name
            own = canonical_uuid(service.environment.id if service.environment else None)
            if own and environment_id and own != environment_id:
                # A UUID given with its type is taken as it is, unlisted in the given environment (a fresh
                # clone's are listed late): its own read says where it is, and its labels and links say so.
                log.info(
                    f"The {kind.noun} {service_id} is in environment {own}, not in the one given "
                    f"({environment_id}): its labels and links are its own environment's"
                )
                known = ServiceIdentity(service_id, name=name, environment_id=own, kind=kind.name)
            environment_id = own or environment_id
        if not environment_id:
            return ServiceIdentity(service_id, name=name, kind=kind.name)
        environment = None
        if not (known.environment_name and known.project_id and known.organization_id):
            environment = directory.environment(environment_id, budget=IDENTITY_BUDGET_SECONDS)
    except ActionError as error:
        if token_refused(error, first_read=own_read and service is None):
            raise  # no read will work: the run ends saying why, before it says anything else
        # Whatever was read still names it: its name when its own read answered, else its id.
        name = service.name if service is not None else known.name
        shown = f"it is called {name!r} alone" if name else "it is called by its id"
        log.info(f"The {kind.noun}'s names and console links are unavailable ({short_error(error)}); {shown}")
        return ServiceIdentity(service_id, name=name, kind=kind.name)
    project_id, organization_id = _ids(environment, known)
    return ServiceIdentity(
        service_id,
        name=name,
        environment_id=environment_id,
        environment_name=environment.name if environment else known.environment_name,
        project_id=project_id,
        project_name=known.project_name or _project_name(directory, organization_id, project_id, log, said),
        organization_id=organization_id,
        kind=kind.name,
        environment_mode=environment.mode if environment else known.environment_mode,
    )


def _ids(environment: EnvironmentInfo | None, known: ServiceIdentity) -> tuple[str | None, str | None]:
    """The project's and the organization's ids: from the environment's read, when it was read."""
    if environment is None:
        return known.project_id, known.organization_id
    return (
        canonical_uuid(environment.project.id if environment.project else None),
        canonical_uuid(environment.organization.id if environment.organization else None),
    )


def _project_name(
    directory: Directory, organization_id: str | None, project_id: str | None, log: Log, said: set[str]
) -> str | None:
    """The project's name, for the one label form (`migrate (shop / production)`): the environment's read
    gives only its id. One read per organization per run (the one that resolved the names, when it was
    read for that); without it, the label names the environment."""
    if not organization_id or not project_id:
        return None
    try:
        listed = directory.projects(organization_id, budget=IDENTITY_BUDGET_SECONDS)
    except ActionError as error:
        if organization_id not in said:
            said.add(organization_id)
            log.info(f"The project's name is unavailable ({short_error(error)}); labels name the environment")
        return None
    return {canonical_uuid(item.id): item.name for item in listed}.get(project_id) or None
