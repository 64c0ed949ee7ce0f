"""Where each service that succeeded answers: its URL, read from Qovery's links once every verdict is known.

Which kinds have links is a property of each row of the table (`ServiceKind.links`: applications,
containers, helm charts); a job, a database or a terraform service has none, and a service without a public
port has an empty list: no URL, and nothing to say. A failed or unfinished service has no URL to claim, so
only services that succeeded are read, at most once per environment: a service alone by its own
`GET /{kind}/{id}/link`, several of one environment by one `GET /environment/{id}/link`, and so is one
alone in an environment whose links the run reads anyway (a preview's, for its own link). The reads go
through the run's `Directory`, which reads each once: a preview's link is that same read.

Nothing here may change a verdict: a read that fails is one info line, and its services have no URL. A
link's `url` is untrusted API text: only a plain http(s) URL is kept (`web_url`), and each writer escapes it
its own way besides.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from typing import Protocol

from qovery_job_deploy.api.errors import short_error
from qovery_job_deploy.api.models import Link, Links
from qovery_job_deploy.clock import Deadline
from qovery_job_deploy.errors import ActionError, Interrupted
from qovery_job_deploy.identity import canonical_uuid
from qovery_job_deploy.kinds import KINDS, ServiceKind
from qovery_job_deploy.log import Log
from qovery_job_deploy.outcome import Outcome, Verdict

# One link read's time at most: where a service answers is worth a few seconds, not the step's patience.
LINKS_MAX_SECONDS = 5.0
# Less than this left of the explain step's time: not worth a try.
LINKS_FLOOR_SECONDS = 1.0
MAX_URL = 2000
WEB_SCHEMES = ("http", "https")
_URL_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")

# Which link is the service's URL, in order: its default one, else its first on a Qovery domain, else its
# first.
PREFERENCES: tuple[Callable[[Link], bool], ...] = (
    lambda link: link.is_default is True,
    lambda link: link.is_qovery_domain is True,
    lambda link: True,
)


class LinkReads(Protocol):
    """The two link reads (the client's, or the run's `Directory`, which reads each once a run)."""

    def links(self, kind: ServiceKind, service_id: str, *, budget: float) -> Links: ...

    def environment_links(self, environment_id: str, *, budget: float) -> Links: ...


def web_url(text: object) -> str | None:
    """`text` when it is a plain web address: http or https, a host name (letters, digits, `-`, `.`), maybe
    a port, no credentials, and only the characters RFC 3986 allows in a URL (no space, control character,
    quote, `<`, `>`, backslash or backtick); else None."""
    if not isinstance(text, str) or len(text) > MAX_URL or not _URL_CHARACTERS.fullmatch(text):
        return None
    scheme, separator, rest = text.partition("://")
    if not separator or scheme.lower() not in WEB_SCHEMES:
        return None
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    host, _, port = authority.partition(":")
    if not _HOST.fullmatch(host) or not (port == "" or port.isdigit()) or authority.endswith(":"):
        return None
    return text


def chosen(links: Sequence[Link]) -> str | None:
    """The service's URL among its links: the default one, else the first on a Qovery domain, else the
    first; only links whose URL is a plain web address count."""
    usable = [(link, url) for link in links if (url := web_url(link.url)) is not None]
    for preferred in PREFERENCES:
        for link, url in usable:
            if preferred(link):
                return url
    return None


def located(
    outcomes: list[Outcome],
    client: LinkReads,
    until: Deadline,
    log: Log,
    *,
    cap: float,
    read_anyway: Collection[str] = (),
) -> list[Outcome]:
    """Each outcome with `url` where its service succeeded and has one. `until` bounds the reads (the
    explain step's time), `cap` each one (one request's timeout); `read_anyway`: the environments whose
    links the run reads anyway (a preview's), read for a service alone there too. A signal stops them: said
    in one line, then raised for the caller."""
    # By environment, in the order given; a service whose environment is not known, alone.
    groups: dict[tuple[str | None, str], list[tuple[Outcome, ServiceKind]]] = {}
    for outcome in outcomes:
        kind = _linked_kind(outcome)
        if outcome.verdict is Verdict.SUCCEEDED and kind is not None:
            environment = _environment_id(outcome)
            key = (environment, "") if environment is not None else (None, outcome.known.service_id)
            groups.setdefault(key, []).append((outcome, kind))
    found: dict[str, str] = {}
    for (environment, _), members in groups.items():
        whole = environment is not None and (len(members) > 1 or environment in read_anyway)
        links = _read(members, environment if whole else None, client, until, log, cap=cap)
        for member, _kind in members:
            mine = [link for link in links if _of(link, member)] if whole else links
            if (url := chosen(mine)) is not None:
                found[member.known.service_id] = url
    return [replace(outcome, url=found.get(outcome.known.service_id)) for outcome in outcomes]


def _read(
    members: list[tuple[Outcome, ServiceKind]],
    environment: str | None,
    client: LinkReads,
    until: Deadline,
    log: Log,
    *,
    cap: float,
) -> list[Link]:
    """The links of `members`: their `environment`'s when given, else the one service's own; none when the
    read failed (said in one line)."""
    labels = ", ".join(member.known.label() for member, _ in members)
    what = f"the URL of {labels} is" if len(members) == 1 else f"the URLs of {labels} are"
    left = until.left()
    if left < LINKS_FLOOR_SECONDS:
        log.info(f"No time left: {what} not read")
        return []
    budget = min(LINKS_MAX_SECONDS, left, cap)
    first, kind = members[0]
    try:
        if environment is not None:
            answer = client.environment_links(environment, budget=budget)
        else:
            answer = client.links(kind, first.known.service_id, budget=budget)
    except Interrupted:
        log.info(f"Interrupted while reading links: {what} not known")
        raise
    except ActionError as error:
        log.info(f"{what[0].upper()}{what[1:]} unavailable ({short_error(error)})")
        return []
    return list(answer.results)


def _linked_kind(outcome: Outcome) -> ServiceKind | None:
    """The service's kind when it has links and its id is known (a UUID): then its links can be read."""
    identity = outcome.identity
    kind = KINDS.get(identity.kind) if identity is not None else None
    if kind is None or not kind.links or canonical_uuid(outcome.known.service_id) is None:
        return None
    return kind


def _environment_id(outcome: Outcome) -> str | None:
    identity = outcome.identity
    return canonical_uuid(identity.environment_id) if identity is not None else None


def _of(link: Link, outcome: Outcome) -> bool:
    """Whether a link of the environment's list is this service's."""
    return canonical_uuid(link.service_id) == canonical_uuid(outcome.known.service_id)
