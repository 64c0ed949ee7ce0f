"""The kinds of Qovery service the step deploys, as a table: each kind is a row, so that the engine, the
client and the report have no branch per kind.

A row says where the kind lives in the API (`/container/{id}/deploy`, `/environment/{id}/container`), its
key in `GET /environment/{id}/statuses`, whether it has a status endpoint of its own, which force-events it
accepts, how its deploy request is made from the step's values (`image-tag`, `git-commit-id`,
`chart-version`, `apply-immediately`) and from what the service runs now (`Source`, read from
`GET /{kind}/{id}` when the values do not say it all), whether it has links (where it answers), and what
people call it. Every list of kinds (the types `services` accepts, the force-events, the messages that name
them) is read from `KINDS`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from qovery_job_deploy.errors import InputError

# In the order Qovery's spec lists them, which is the order the messages say them in.
JOB_EVENTS = ("START", "STOP", "DELETE", "CRON")
HELM_EVENTS = ("DIFF",)


@dataclass(frozen=True)
class DeployRequest:
    """What the step was asked to deploy: the same values for every service; each kind takes its own."""

    image_tag: str | None = None
    git_commit_id: str | None = None
    force_event: str | None = None
    chart_version: str | None = None
    apply_immediately: bool = False

    def values_given(self) -> bool:
        return bool(self.image_tag or self.git_commit_id or self.chart_version)

    def taken_by(self, deploys: Sequence[Deploy]) -> DeployRequest:
        """Only what some service's deploy request carries: a release given an image tag and a commit
        reports no image tag when only applications (which take the commit) were deployed."""
        bodies = [deploy.body or {} for deploy in deploys]
        queries = [deploy.query or {} for deploy in deploys]
        return DeployRequest(
            self.image_tag if any("image_tag" in body for body in bodies) else None,
            self.git_commit_id if any("git_commit_id" in body for body in bodies) else None,
            self.force_event if any("forceEvent" in query for query in queries) else None,
            self.chart_version if any("chart_version" in body for body in bodies) else None,
            any(query.get("applyImmediately") == "true" for query in queries),
        )


@dataclass(frozen=True)
class Source:
    """What a service deploys from, and what it runs now, as `GET /{kind}/{id}` tells (None: unknown).

    `origin` is "image" (a container, a job from an image), "git" (an application, a job or a helm chart
    from git) or "chart" (a helm chart from a chart repository)."""

    origin: str | None = None
    image_tag: str | None = None
    git_commit_id: str | None = None
    chart_version: str | None = None


# Force-events that run what the service has (its stop or delete steps) rather than deploy a source.
EVENTS_WITHOUT_SOURCE = ("STOP", "DELETE")


@dataclass(frozen=True)
class Deploy:
    """One service's deploy request: its JSON body (None: no body at all) and its query."""

    body: dict[str, str] | None
    query: dict[str, str] | None

    def requested(self, noun: str) -> str:
        """What the deploy request asks, after "requesting": `a deployment of image tag v1.2`, or for an
        event that deploys nothing new, `the job's STOP event (force-event STOP)`."""
        event = (self.query or {}).get("forceEvent")
        if event in EVENTS_WITHOUT_SOURCE and not self.body:
            return f"the {noun}'s {event} event (force-event {event})"
        return f"a deployment of {self.described(noun)}"

    def described(self, noun: str) -> str:
        """`image tag v1.2 (force-event START)`, `commit 4f2a…`, `the job's current source`: what the log
        line that requests the deployment says is deployed."""
        words = {"image_tag": "image tag", "git_commit_id": "commit", "chart_version": "chart version"}
        parts = [f"{words[key]} {value}" for key, value in (self.body or {}).items() if key in words]
        # A database has no source to deploy: its configuration (what Qovery deploys for it).
        current = "its configuration" if noun == "database" else f"the {noun}'s current source"
        source = ", ".join(parts) or current
        query = self.query or {}
        if "forceEvent" in query:
            source += f" (force-event {query['forceEvent']})"
        if query.get("applyImmediately") == "true":
            source += " (apply-immediately)"
        return source


# A kind's rule: (the request, what the service runs now, its name for messages) -> its deploy request,
# or an InputError that names the service, its kind and the input it needs.
Rule = Callable[[DeployRequest, Source, str], Deploy]


@dataclass(frozen=True, eq=False)  # each row is one object: compared and hashed by identity
class ServiceKind:
    name: str  # what users write (`container:api`) and what the result's `type` says
    segment: str  # its path segment: /{segment}/{id}/deploy, /environment/{id}/{segment}
    statuses_key: str  # its list in GET /environment/{id}/statuses
    events: tuple[str, ...]  # the `forceEvent` values it accepts
    rule: Rule
    # Whether the rule needs `Source` (one `GET /{kind}/{id}`) for these values.
    needs_source: Callable[[DeployRequest], bool]
    # The state a deployment ends in, per force-event; any other: DEPLOYED.
    event_states: Mapping[str, str] = field(default_factory=dict)
    noun: str = ""  # what people call it (`helm chart`); default: its name
    plural: str = ""  # default: the noun and an s
    # Whether Qovery has `GET /{segment}/{id}/status` and `GET /environment/{id}/{segment}/status` for it;
    # without them, its status is only in its environment's statuses (`reading.py`).
    own_status: bool = True
    # Whether it stays DEPLOYING while its readiness probe fails (what a timeout in DEPLOYING suggests).
    readiness_probe: bool = True
    # Whether Qovery has `GET /{segment}/{id}/link`: where the service answers once deployed (`urls.py`).
    links: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "noun", self.noun or self.name)
        object.__setattr__(self, "plural", self.plural or f"{self.noun}s")

    def success_state(self, force_event: str | None) -> str:
        return self.event_states.get(force_event or "", "DEPLOYED")

    def deploy(
        self, request: DeployRequest, source: Source, name: str, *, given: Mapping[str, str] | None = None
    ) -> Deploy:
        """Its deploy request, or an InputError naming each rejected input; `given` shows an input's value
        and where it came from, by field (`force_event`: `DIFF` from the flag --force-event)."""
        given = given or {}
        if request.force_event and request.force_event not in self.events:
            raise InputError(
                f"Invalid input `force-event` ({given.get('force_event') or request.force_event}): {name} is "
                f"{self.article()}, and {self.takes()}. Fix: leave `force-event` out, or deploy {name} in a "
                "step of its own."
            )
        try:
            return self.rule(request, source, name)
        except NeedsValue as needs:
            raise InputError(needs.said(request, given)) from None

    def article(self) -> str:
        return ("an " if self.noun[0] in "aeiou" else "a ") + self.noun

    def takes(self) -> str:
        """`a job takes START, STOP, DELETE or CRON`, `a container takes no force-event`."""
        return f"{self.article()} takes {either(self.events) if self.events else 'no force-event'}"


def either(words: Sequence[str], last: str = "or") -> str:
    """`START, STOP or CRON`: a list as a sentence says it."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {last} {words[-1]}"


def events_in_words(kinds: Iterable[ServiceKind]) -> str:
    """Every kind's force-events in the user's terms, from the table: `a job takes START, STOP, DELETE or
    CRON; a helm chart takes DIFF; applications, containers and databases take none`."""
    rows = list(kinds)
    said = [kind.takes() for kind in rows if kind.events]
    if without := [kind.plural for kind in rows if not kind.events]:
        said.append(f"{either(without, 'and')} take none")
    return "; ".join(said)


class NeedsValue(InputError):
    """A service given values, none of which it takes: `said` names each rejected input."""

    def __init__(self, name: str, kind: str, wanted: str, what: str) -> None:
        self.name, self.kind, self.wanted, self.what = name, kind, wanted, what
        super().__init__(self.said(DeployRequest(), {}))

    def said(self, request: DeployRequest, given: Mapping[str, str]) -> str:
        """`Invalid input `chart-version` (`1.2.3` from the flag --chart-version): api is a container, which
        deploys an image tag: give `image-tag` ...`: the inputs given that it does not take, each with its
        value and where it came from."""
        rejected = [
            f"`{flag}` ({given.get(field) or f'`{getattr(request, field)}`'})"
            for flag, field, _ in TAKES.values()
            if flag != self.wanted and getattr(request, field)
        ]
        which = f"Invalid input {' and '.join(rejected)}" if rejected else "Invalid input"
        return (
            f"{which}: {self.name} is {self.kind}, which deploys {self.what}: give `{self.wanted}` "
            "(or leave every value out to deploy what it runs now)."
        )


def _needs(name: str, kind: str, wanted: str, what: str) -> NeedsValue:
    return NeedsValue(name, kind, wanted, what)


def _event_query(request: DeployRequest) -> dict[str, str] | None:
    return {"forceEvent": request.force_event} if request.force_event else None


# What each origin deploys, for a job and a helm chart: (the input, the body's field, in words).
TAKES = {
    "image": ("image-tag", "image_tag", "an image tag"),
    "git": ("git-commit-id", "git_commit_id", "a git commit"),
    "chart": ("chart-version", "chart_version", "a chart version"),
}
FROM = {"image": "from an image", "git": "from git", "chart": "from a chart repository"}


def _by_origin(kind: str, origins: tuple[str, ...]) -> Rule:
    """The rule of a kind whose source decides its value (a job: an image or git; a helm chart: a chart
    repository or git): the value its source takes, or an input error naming it; no value, what it runs."""

    def rule(request: DeployRequest, source: Source, name: str) -> Deploy:
        query = _event_query(request)
        given = [origin for origin in origins if getattr(request, TAKES[origin][1])]
        origin = source.origin if source.origin in origins else (given[0] if len(given) == 1 else None)
        if origin is not None and getattr(request, TAKES[origin][1]):
            return Deploy({TAKES[origin][1]: getattr(request, TAKES[origin][1])}, query)
        if origin is not None and request.values_given():
            flag, _, what = TAKES[origin]
            raise _needs(name, f"{kind} {FROM[origin]}", flag, what)
        if given:  # its source unread, and each of its values given: which one is not known
            flags = " and ".join(f"`{TAKES[origin][0]}`" for origin in given)
            raise InputError(
                f"Invalid input: {name} is {kind} whose source could not be read, and both {flags} are "
                "given. Fix: deploy it with only the value its source takes."
            )
        return Deploy({}, query)

    return rule


_job = _by_origin("a job", ("image", "git"))
_helm = _by_origin("a helm chart", ("chart", "git"))


def _one_value(field: str, kind: str, flag: str, what: str, current: str) -> Rule:
    """The rule of a kind that deploys one value (`field`): the one given, else the one it runs now."""

    def rule(request: DeployRequest, source: Source, name: str) -> Deploy:
        value = getattr(request, field)
        if not value and request.values_given():
            raise _needs(name, kind, flag, what)
        value = value or getattr(source, field)
        if not value:
            raise InputError(
                f"Invalid input: {name} is {kind}, and {current} could not be read. Fix: give `{flag}`."
            )
        return Deploy({field: value}, None)

    return rule


_application = _one_value(
    "git_commit_id", "an application", "git-commit-id", "a git commit", "its deployed commit"
)
_container = _one_value("image_tag", "a container", "image-tag", "an image tag", "its image tag")
_terraform = _one_value(
    "git_commit_id", "a terraform service", "git-commit-id", "a git commit", "its deployed commit"
)


def _database(request: DeployRequest, source: Source, name: str) -> Deploy:
    """A database deploys its configuration: no body; `apply-immediately` skips the maintenance window.
    It takes no value, so values given for the other services of a release do not concern it."""
    return Deploy(None, {"applyImmediately": "true"} if request.apply_immediately else None)


JOB = ServiceKind(
    "job",
    "job",
    "jobs",
    JOB_EVENTS,
    _job,
    lambda r: r.values_given(),  # its source says which it takes, or that none given fits it
    {"START": "DEPLOYED", "CRON": "DEPLOYED", "STOP": "STOPPED", "DELETE": "DELETED"},
    readiness_probe=False,  # it runs to its end
)
APPLICATION = ServiceKind(
    "application",
    "application",
    "applications",
    (),
    _application,
    lambda r: not r.git_commit_id,
    links=True,
)
CONTAINER = ServiceKind(
    "container", "container", "containers", (), _container, lambda r: not r.image_tag, links=True
)
HELM = ServiceKind(
    "helm",
    "helm",
    "helms",
    HELM_EVENTS,
    _helm,
    lambda r: r.values_given(),  # its source says which
    noun="helm chart",
    links=True,
)
DATABASE = ServiceKind("database", "database", "databases", (), _database, lambda r: False)
# Its status is only in its environment's statuses (`terraforms`): Qovery has no GET /terraform/{id}/status.
TERRAFORM = ServiceKind(
    "terraform",
    "terraform",
    "terraforms",
    (),
    _terraform,
    lambda r: not r.git_commit_id,
    noun="terraform service",
    own_status=False,
    readiness_probe=False,  # it runs terraform to its end
)

KINDS = {kind.name: kind for kind in (JOB, APPLICATION, CONTAINER, HELM, DATABASE, TERRAFORM)}
# Not a kind: the report's one entry for a preview deployed whole (nothing named) before its services are
# known (a token refused, a clone whose services never appear).
WHOLE_ENVIRONMENT = "environment"


def noun_of(kind: str) -> str:
    """What people call a service of `kind` (`helm chart`); `environment` for WHOLE_ENVIRONMENT; `service`
    while its kind is not known (nothing was resolved)."""
    if (known := KINDS.get(kind)) is not None:
        return known.noun
    return WHOLE_ENVIRONMENT if kind == WHOLE_ENVIRONMENT else "service"


# What the inputs and their messages say, from the table.
# The types an item of `services` may name before a colon (`container:api`), in words.
TYPES_IN_WORDS = either(list(KINDS))
# Every force-event some kind takes, in the table's order: what `force-event` accepts.
FORCE_EVENTS = tuple(dict.fromkeys(event for kind in KINDS.values() for event in kind.events))
# What `force-event` accepts, per kind, as its error messages say it.
EVENTS_IN_WORDS = events_in_words(KINDS.values())
# As its description says it: `START, STOP, DELETE or CRON for jobs, DIFF for helm charts`.
EVENTS_FOR_KINDS = ", ".join(
    f"{either(kind.events)} for {kind.plural}" for kind in KINDS.values() if kind.events
)
# `STOP expects STOPPED, DELETE expects DELETED`: the events whose deployment does not end in DEPLOYED.
EVENT_STATES_IN_WORDS = ", ".join(
    dict.fromkeys(
        f"{event} expects {state}"
        for kind in KINDS.values()
        for event, state in kind.event_states.items()
        if state != "DEPLOYED"
    )
)
