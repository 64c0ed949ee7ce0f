"""The settings turned into one frozen `Plan`: what to deploy, with which values, how to wait, what to report,
and where each value came from (for messages). Past this module nothing reads `Settings`: the run and the
report take a `Plan`, so that a new input is one field in the model and one here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import SecretStr

from qovery_job_deploy.console import DEFAULT_CONSOLE_URL
from qovery_job_deploy.inputs.model import ServiceRef, Settings
from qovery_job_deploy.inputs.names import GITHUB_TOKEN_VARIABLE, PLAIN, Given, Platform, platform_of
from qovery_job_deploy.inputs.sources import changed_inputs, gather, load_settings
from qovery_job_deploy.kinds import DeployRequest

LogsMode = Literal["on-failure", "always", "never", "live"]

# The inputs checked once Qovery has answered: their value (never the token's) and origin appear in the
# errors of name resolution, of each service's deploy request, and of a token Qovery refuses.
NAME_INPUTS = (
    *("jobs", "services", "organization", "project", "environment", "api_token", "clone_from"),
    *("force_event", "image_tag", "git_commit_id", "chart_version"),  # each service's deploy request
)


@dataclass(frozen=True)
class Waiting:
    """How to wait for each deployment."""

    poll_interval: float
    wait: bool = True
    sequential: bool = False
    cancel_on_abort: bool = False
    cancel_on_timeout: bool = False


@dataclass(frozen=True)
class Connection:
    """How to reach Qovery. The Authorization header is a secret: its repr shows nothing."""

    api_url: str
    authorization: SecretStr
    request_timeout: float


@dataclass(frozen=True)
class GitHubReporting:
    """What GitHub's own API is told, each when asked for: a deployment record (`github-deployment`) and one
    pull-request comment kept current (`pr-comment`). The token is `github-token`'s, else GITHUB_TOKEN's;
    its repr shows nothing."""

    deployment: bool = False
    pr_comment: bool = False
    environment: str | None = None  # GitHub's name for the environment; None: the Qovery environment's
    token: SecretStr | None = None
    token_from: str = ""  # where the token came from, for messages (never the token)


@dataclass(frozen=True)
class Reporting:
    """What to explain and where to write it."""

    logs: LogsMode = "on-failure"
    console_url: str = DEFAULT_CONSOLE_URL
    dotenv_file: Path | None = None  # GitLab's dotenv report; None: $CI_PROJECT_DIR/qovery.env
    github: GitHubReporting = field(default_factory=GitHubReporting)


@dataclass(frozen=True)
class Plan:
    """Everything the run and the report need, decided before any request is sent."""

    services: tuple[ServiceRef, ...]  # what to deploy, as the user named it, in the order given
    input_name: str  # the input that named them ("services" or "jobs"), for messages
    organization: str | None
    project: str | None
    environment: str | None
    request: DeployRequest  # the values given; each service's own request is decided once it is known
    waiting: Waiting
    timeout: float  # the whole step's budget, in seconds
    connection: Connection
    reporting: Reporting = field(default_factory=Reporting)
    dry_run: bool = False
    debug: bool = False
    secrets: tuple[str, ...] = ()  # never shown: scrubbed from the deployment log
    given: Mapping[str, str] = field(
        default_factory=dict
    )  # NAME_INPUTS: `value` from where; the token's hidden
    changed: str = ""  # the optional inputs not at their default, and where each came from
    token_on_command_line: bool = False  # `--api-token`: visible to other users of the machine (ps)
    platform: Platform = PLAIN  # whose words say where an input is set
    # A preview: the environment `environment` is cloned from when it does not exist (`preview.py`).
    clone_from: str | None = None
    delete_environment: bool = False  # delete `environment` instead of deploying (`removal.py`)


def load_plan(argv: Sequence[str], environ: Mapping[str, str]) -> Plan:
    """The plan of this invocation, or InputError with one line per problem (nothing is sent)."""
    settings = load_settings(argv, environ)
    inputs = gather(argv, environ)  # each input's raw value and where it came from
    token = settings.api_token.get_secret_value()
    return Plan(
        services=settings.service_refs(),
        input_name="services" if settings.services else "jobs",
        organization=settings.organization,
        project=settings.project,
        environment=settings.environment,
        request=request_of(settings),
        waiting=Waiting(
            settings.poll_interval,
            wait=settings.wait,
            sequential=settings.sequential,
            cancel_on_abort=settings.cancel_on_abort,
            cancel_on_timeout=settings.cancel_on_timeout,
        ),
        timeout=settings.timeout,
        connection=Connection(
            settings.api_url, SecretStr(settings.authorization()), settings.request_timeout
        ),
        reporting=Reporting(
            settings.logs, settings.console_url, settings.dotenv_file, github_of(settings, inputs, environ)
        ),
        dry_run=settings.dry_run,
        debug=settings.debug or environ.get("RUNNER_DEBUG") == "1",
        secrets=(token, *github_secret(settings, environ)),
        given={
            name: inputs[name].describe(secret=name == "api_token") for name in NAME_INPUTS if name in inputs
        },
        changed=changed_inputs(settings, inputs),
        token_on_command_line=inputs["api_token"].origin.startswith("-"),
        platform=platform_of(environ),
        clone_from=settings.clone_from,
        delete_environment=settings.delete_environment,
    )


def github_of(settings: Settings, inputs: Mapping[str, Given], environ: Mapping[str, str]) -> GitHubReporting:
    """The GitHub settings; the token is `github-token`'s, else the environment's GITHUB_TOKEN (a `run:` step
    or `docker run` passes it so), said by where it came from."""
    token = github_secret(settings, environ)
    given = inputs.get("github_token")
    token_from = given.describe(secret=True) if given else "from the environment variable GITHUB_TOKEN"
    return GitHubReporting(
        settings.github_deployment,
        settings.pr_comment,
        settings.github_environment,
        SecretStr(token[0]) if token else None,
        token_from if token else "",
    )


def github_secret(settings: Settings, environ: Mapping[str, str]) -> tuple[str, ...]:
    """The GitHub token, when there is one: never shown, scrubbed like the Qovery token."""
    if settings.github_token is not None:
        return (settings.github_token.get_secret_value(),)
    fallback = environ.get(GITHUB_TOKEN_VARIABLE, "").strip()
    return (fallback,) if fallback and not any(ch.isspace() for ch in fallback) else ()


def request_of(settings: Settings) -> DeployRequest:
    return DeployRequest(
        settings.image_tag,
        settings.git_commit_id,
        settings.force_event,
        settings.chart_version,
        settings.apply_immediately,
    )
