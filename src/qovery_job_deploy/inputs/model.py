"""The settings model: every input as one field of `Settings`, validated before any request is sent, and the
model's helpers (job and service references, UUIDs, loopback hosts). Adding an input is one field here (and,
if it needs one, a row in `messages.FIX_HINTS` or `cli.METAVARS`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from uuid import UUID

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from qovery_job_deploy.api.network import is_loopback
from qovery_job_deploy.console import DEFAULT_CONSOLE_URL, console_base
from qovery_job_deploy.identity import is_uuid
from qovery_job_deploy.inputs.durations import (
    DEFAULT_POLL_INTERVAL_SECONDS,
    DEFAULT_REQUEST_TIMEOUT_SECONDS,
    DEFAULT_TIMEOUT_SECONDS,
    HOUR,
    MIN_POLL_INTERVAL_SECONDS,
    Duration,
    duration_bounds,
    parse_duration,
)
from qovery_job_deploy.inputs.messages import EXCLUSIVE, _model_error, exclusive_message
from qovery_job_deploy.inputs.names import _looks_like_jwt, holds_a_token
from qovery_job_deploy.kinds import (
    EVENT_STATES_IN_WORDS,
    EVENTS_FOR_KINDS,
    EVENTS_IN_WORDS,
    FORCE_EVENTS,
    JOB,
    KINDS,
    TYPES_IN_WORDS,
)
from qovery_job_deploy.text import one_line

DEFAULT_API_URL = "https://api.qovery.com"

# The types an item of `services` may name before a colon (`container:api`), as users call them.
SERVICE_TYPES = tuple(KINDS)
_TYPE_RULE = f"the text before an item's first ':' must be {TYPES_IN_WORDS}"


@dataclass(frozen=True)
class ServiceRef:
    """One service to deploy as the user named it: its type (`container:api`: `container`; None: any type)
    and its name or UUID."""

    kind: str | None
    ref: str


class Settings(BaseSettings):
    """Everything the step needs, validated before any request is sent."""

    model_config = SettingsConfigDict(extra="forbid")

    api_token: SecretStr = Field(
        description="Qovery API token (qov_...) or a JWT. Prefer QOVERY_API_TOKEN to this flag."
    )
    auth_scheme: Literal["auto", "token", "bearer"] = Field(
        "auto",
        description="How to send the token: auto (qov_ tokens as Token, JWTs as Bearer), token, bearer.",
    )
    job_id: UUID | None = Field(None, description="The job to deploy (or give `jobs` or `services`).")
    image_tag: str | None = Field(None, description="Image tag to deploy (services built from an image).")
    git_commit_id: str | None = Field(
        None, description="Git commit to deploy (services built from a git repository)."
    )
    chart_version: str | None = Field(
        None, description="Chart version to deploy (helm charts from a chart repository)."
    )
    # One of FORCE_EVENTS (`_an_event` says so in the user's terms; `cli.METAVARS` lists them).
    force_event: str | None = Field(
        None,
        description=f"Sent as forceEvent: {EVENTS_FOR_KINDS}. {EVENT_STATES_IN_WORDS}.",
    )
    apply_immediately: bool = Field(
        False, description="Databases: apply the change now, not in the maintenance window."
    )
    wait: bool = Field(True, description="Wait for the deployment to end (false: succeed once accepted).")
    timeout: Annotated[float, Duration(1.0, 24 * HOUR)] = Field(
        DEFAULT_TIMEOUT_SECONDS,
        description="How long the whole step may take, names and waiting included (exit code 124 when it "
        "runs out).",
    )
    poll_interval: Annotated[
        float, Duration(MIN_POLL_INTERVAL_SECONDS, 10 * 60.0, ", not to hammer the API")
    ] = Field(DEFAULT_POLL_INTERVAL_SECONDS, description="The longest pause between two status reads.")
    cancel_on_abort: bool = Field(
        False, description="On SIGINT/SIGTERM, also cancel our deployment request before exiting."
    )
    cancel_on_timeout: bool = Field(
        False, description="When the wait times out, cancel our deployment request."
    )
    request_timeout: Annotated[float, Duration(0.5, 10 * 60.0)] = Field(
        DEFAULT_REQUEST_TIMEOUT_SECONDS, description="How long one HTTP request may wait for Qovery's answer."
    )
    api_url: str = Field(DEFAULT_API_URL, description="Qovery API base URL.")
    dotenv_file: Path | None = Field(
        None,
        description="GitLab dotenv report path (default: $CI_PROJECT_DIR/qovery.env); the JSON result is "
        "written beside it.",
    )
    debug: bool = Field(False, description="Show the traceback of unexpected errors.")
    jobs: str | None = Field(
        None, description="One or more jobs, by name or UUID, separated by commas or newlines."
    )
    services: str | None = Field(
        None,
        description="One or more services of any type, by name or UUID, separated by commas or newlines; "
        f"TYPE:NAME gives the type ({TYPES_IN_WORDS}).",
    )
    organization: str | None = Field(
        None, description="Organization name or UUID (for services given by name)."
    )
    project: str | None = Field(None, description="Project name or UUID (for services given by name).")
    environment: str | None = Field(
        None, description="Environment name or UUID (for services given by name)."
    )
    clone_from: str | None = Field(
        None,
        description="A preview: the environment to clone (name or UUID, in the same project) into "
        "`environment` when no environment has that name; everything in a new clone is deployed, and with "
        "nothing named (no `job-id`, `jobs` or `services`) every run deploys the whole preview. An "
        "environment of that name in a mode other than PREVIEW or DEVELOPMENT is refused.",
    )
    delete_environment: bool = Field(
        False,
        description="Delete `environment` (a PREVIEW or DEVELOPMENT one; never a PRODUCTION or STAGING one) "
        "and wait until it is gone; deploys nothing.",
    )
    sequential: bool = Field(
        False, description="Deploy the jobs one after another, stop at the first failure."
    )
    dry_run: bool = Field(
        False,
        description="Resolve every name, read each service's status and check each value, then say what "
        "would be deployed; post nothing.",
    )
    logs: Literal["on-failure", "always", "never", "live"] = Field(
        "on-failure", description="When to show the deployment's log."
    )
    console_url: str = Field(DEFAULT_CONSOLE_URL, description="Qovery console base URL, for links.")
    github_deployment: bool = Field(
        False,
        description="Record the run as a GitHub deployment (in progress, then its verdict); needs "
        "`permissions: deployments: write`.",
    )
    github_token: SecretStr | None = Field(
        None,
        description="The GitHub token for the deployment record and the pull-request comment (the action "
        "passes the workflow's own; elsewhere GITHUB_TOKEN).",
    )
    github_environment: str | None = Field(
        None, description="GitHub's name for the environment (default: the Qovery environment's name)."
    )
    pr_comment: bool = Field(
        False,
        description="Keep one comment on the pull request up to date with the verdicts; needs "
        "`permissions: pull-requests: write`.",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # `load_settings` merges the sources itself (it needs the environment as a parameter, for tests).
        return (init_settings,)

    @field_validator("*", mode="before")
    @classmethod
    def _trimmed_and_durations(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str):
            value = value.strip()  # ids pasted with a space or a newline around them
        bounds = duration_bounds(cls.model_fields[info.field_name or ""])
        return value if bounds is None else bounds.check(parse_duration(value))

    @field_validator("auth_scheme", "logs", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("force_event", mode="before")
    @classmethod
    def _an_event(cls, value: Any) -> Any:
        """Upper-cased; an event no kind takes is said in the user's terms, each kind with its events."""
        event = value.strip().upper() if isinstance(value, str) else value
        if isinstance(event, str) and event not in FORCE_EVENTS:
            raise ValueError(f"is no event Qovery can force: {EVENTS_IN_WORDS}")
        return event

    @field_validator("dotenv_file")
    @classmethod
    def _file_path(cls, value: Path | None) -> Path | None:
        if value is not None and value.is_dir():
            raise ValueError("is a directory; give a file path such as qovery.env")
        return value

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme == "https" and parts.hostname:
            return value.strip().rstrip("/")
        if parts.scheme == "http" and parts.hostname and is_loopback(parts.hostname):
            return value.strip().rstrip("/")
        raise ValueError("must be an https:// URL (http:// is allowed only for 127.0.0.1, ::1 or localhost)")

    @field_validator("console_url")
    @classmethod
    def _console_url(cls, value: str) -> str:
        return console_base(value)

    @field_validator("api_token", "github_token")
    @classmethod
    def _token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        secret = value.get_secret_value().strip()
        if not secret:
            raise ValueError("is empty")
        if any(ch.isspace() for ch in secret):
            raise ValueError("contains white space (was more than the token pasted?)")
        return SecretStr(secret)

    @field_validator("image_tag", "git_commit_id", "chart_version")
    @classmethod
    def _no_token(cls, value: str | None) -> str | None:
        """A value is sent to Qovery and shown in every report; a token pasted into one would be too, and on
        GitLab or `docker run` nothing masks it."""
        if value is not None and holds_a_token(value):
            raise ValueError(
                "holds what looks like a token (qov_..., a GitHub token, a JWT), never deployed as a value: "
                "was a secret pasted here? Give the tag, commit or version itself"
            )
        return value

    @field_validator("jobs", "services")
    @classmethod
    def _a_list(cls, value: str | None, info: ValidationInfo) -> str | None:
        """At least one item; a `services` item with a type that is none of SERVICE_TYPES is said here."""
        services = info.field_name == "services"
        split: Callable[[str], tuple[object, ...]] = split_service_refs if services else split_job_refs
        if value is not None and not split(value):
            raise ValueError("names no service" if services else "names no job")
        return value

    @model_validator(mode="after")
    def _exclusive_inputs(self) -> Settings:
        for first, second in EXCLUSIVE:
            if getattr(self, first) and getattr(self, second):
                raise _model_error(first, exclusive_message(first, second))
        return self

    @model_validator(mode="after")
    def _something_to_deploy(self) -> Settings:
        # Two at once is an exclusion (EXCLUSIVE), reported even when other inputs are wrong too.
        if self.delete_environment:  # deploys nothing (`previews.preview_problems` checks the rest)
            return self
        if self.clone_from:  # nothing named: the whole preview (`previews.preview_problems` checks the rest)
            return self
        if self.job_id is None and not self.jobs and not self.services:
            raise _model_error("job_id", "is required (or give `jobs` or `services`)")
        return self

    @model_validator(mode="after")
    def _an_event_jobs_have(self) -> Settings:
        """`job-id` and `jobs` name jobs, which have no DIFF event: said before anything is sent. For
        `services`, whose types are known once resolved, the engine checks each one."""
        if self.force_event and self.force_event not in JOB.events and (self.job_id is not None or self.jobs):
            named = "job-id" if self.job_id is not None else "jobs"
            raise _model_error("force_event", f"`{named}` names jobs, and {JOB.takes()}")
        return self

    @model_validator(mode="after")
    def _sequential_waits(self) -> Settings:
        """One after another means waiting for each verdict: without it, nothing could stop the rest."""
        if self.sequential and not self.wait:
            raise _model_error(
                "sequential",
                "needs `wait`: each service is deployed only once the one before it has succeeded, which "
                "only waiting tells; set `wait: true`, or leave `sequential` out to request them all",
            )
        return self

    @model_validator(mode="after")
    def _scope_for_names(self) -> Settings:
        """Services by name are looked up in an environment (by name, in `project` or in every project)."""
        if self.environment or all(is_uuid(item.ref) for item in self.service_refs()):
            return self
        raise _model_error("environment", "is required when a job or service is given by name")

    def job_refs(self) -> tuple[str, ...]:
        """The jobs to deploy as the user named them: UUIDs or names, in the order given."""
        return (str(self.job_id),) if self.job_id is not None else split_job_refs(self.jobs or "")

    def service_refs(self) -> tuple[ServiceRef, ...]:
        """What to deploy as the user named it, in the order given, whichever input said it: `job-id` and
        `jobs` name jobs (kind `job`); an item of `services` has the type it was given, or None (any type)."""
        if self.services:
            return split_service_refs(self.services)
        return tuple(ServiceRef("job", ref) for ref in self.job_refs())

    def authorization(self) -> str:
        """The Authorization header value: `Token` for Qovery API tokens, `Bearer` for JWTs."""
        token = self.api_token.get_secret_value()
        scheme = self.auth_scheme
        if scheme == "auto":
            scheme = "bearer" if _looks_like_jwt(token) else "token"
        return ("Bearer " if scheme == "bearer" else "Token ") + token


def split_job_refs(text: str) -> tuple[str, ...]:
    """`migrate, report` or one per line (a YAML block scalar): trimmed, empty items dropped."""
    return tuple(item.strip() for item in text.replace("\n", ",").split(",") if item.strip())


def split_service_refs(text: str) -> tuple[ServiceRef, ...]:
    """Items as `split_job_refs` splits them, each `NAME`, `UUID` or `TYPE:NAME` (see `parse_service_ref`)."""
    return tuple(parse_service_ref(item) for item in split_job_refs(text))


def parse_service_ref(item: str) -> ServiceRef:
    """`api` -> any type; `Container: api` -> a container. An item with a ':' must start with one of
    SERVICE_TYPES (any case) and the name is all that follows the first ':' (`container:api:v2` is `api:v2`),
    so that a name containing ':' can always be given; any other text before the ':' is a ValueError."""
    head, colon, rest = item.partition(":")
    if not colon:
        return ServiceRef(None, item)
    kind, name = head.strip().lower(), rest.strip()
    if not kind:
        raise ValueError(f"an item starts with ':' but no type ({_TYPE_RULE})")
    if kind not in SERVICE_TYPES:
        shown = "an item's prefix" if holds_a_token(head) else f"`{one_line(head.strip(), 40)}`"
        raise ValueError(f"{shown} is not a service type ({_TYPE_RULE})")
    if not name:
        raise ValueError(f"`{kind}:` is not followed by a name or UUID")
    return ServiceRef(kind, name)
