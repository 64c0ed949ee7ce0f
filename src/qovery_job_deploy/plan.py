"""What each service's deploy request carries, decided before anything is posted.

Each kind's rule (`kinds.py`) turns the step's values into its request; where the values do not say it
all, one `GET /{kind}/{id}` tells what the service deploys from and runs now (an application's deployed
commit, a job's source type): the same read that named the service, when it was read for that. A value
that fits no service, or a force-event a kind does not take, is an input error for each service concerned,
one line each, before the first POST: a release either starts whole or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence

from qovery_job_deploy.api.models import ServiceInfo
from qovery_job_deploy.errors import InputError
from qovery_job_deploy.identity import ServiceIdentity
from qovery_job_deploy.kinds import KINDS, Deploy, DeployRequest, ServiceKind, Source
from qovery_job_deploy.log import Log


def deploys(
    read_service: Callable[[ServiceKind, str], ServiceInfo],
    identities: Sequence[ServiceIdentity],
    asked: DeployRequest,
    log: Log,
    *,
    given: Mapping[str, str] | None = None,
    unnamed: Collection[str] = (),
) -> list[Deploy]:
    """One deploy request per service, in order; InputError (every problem, one per line) otherwise.
    `read_service` is `GET /{kind}/{id}`, read once per service per run (`directory.Directory.service`);
    `given`: each input's value and where it came from, by field, for its errors; `unnamed`: the services
    deployed though not named (a fresh clone's others), by id, which take no value: what they run now."""
    planned: list[Deploy] = []
    problems: list[str] = []
    for identity in identities:
        kind = KINDS[identity.kind]
        request = DeployRequest() if identity.service_id in unnamed else asked
        source = Source()
        if kind.needs_source(request):
            source = read_service(kind, identity.service_id).current()
        try:
            planned.append(kind.deploy(request, source, identity.short_name(), given=given))
        except InputError as error:
            problems.append(str(error))
    if problems:
        raise InputError("\n".join(dict.fromkeys(problems)))  # one line per problem, each once
    return planned
