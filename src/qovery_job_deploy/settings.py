"""One settings model: every input, from a CLI flag, a GitHub `INPUT_*` variable or a `QOVERY_*` variable.

Precedence: `--job-id` flag, then `INPUT_JOB-ID` (GitHub keeps the hyphen), then `QOVERY_JOB_ID`.
An empty value counts as unset, because the GitHub runner sets every declared input, empty when not given.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from uuid import UUID

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    CliSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from qovery_job_deploy.console import DEFAULT_CONSOLE_URL, console_base
from qovery_job_deploy.errors import InputError

DEFAULT_API_URL = "https://api.qovery.com"
DEFAULT_TIMEOUT_SECONDS = 30 * 60.0
# The longest pause between two status reads. 3 s matches the cadence of Qovery's own CLI, so we never
# read more than it does, while the adaptive schedule (see `polling.py`) reads earlier when that pays off.
DEFAULT_POLL_INTERVAL_SECONDS = 3.0

DEFAULT_REQUEST_TIMEOUT_SECONDS = 30.0
MIN_POLL_INTERVAL_SECONDS = 0.2

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str | float) -> float:
    """Seconds from `90`, `90s`, `10m`, `1h` or `500ms` (a number alone means seconds)."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        seconds = float(text)
    else:
        match = _DURATION.match(str(text))
        if not match:
            raise ValueError("expected a duration such as 90, 90s, 10m or 1h")
        seconds = float(match.group(1)) * _UNIT_SECONDS[(match.group(2) or "s").lower()]
    if seconds <= 0:
        raise ValueError("must be greater than zero")
    return seconds


def input_name(field: str) -> str:
    """The user-facing name of a field: `job_id` -> `job-id`."""
    return field.replace("_", "-")


def github_env_name(field: str) -> str:
    return "INPUT_" + input_name(field).upper()


def qovery_env_name(field: str) -> str:
    return "QOVERY_" + field.upper()


# How to fix each input, appended to its validation message.
FIX_HINTS: dict[str, str] = {
    "api_token": "create an API token in the Qovery console (Organization settings > API tokens) and pass it "
    "from a secret as `api-token` (GitHub) or QOVERY_API_TOKEN",
    "auth_scheme": "use auto, token or bearer",
    "job_id": "copy the job's UUID from its URL in the Qovery console (…/application/<job id>/…)",
    "image_tag": "give either image-tag or git-commit-id, not both",
    "git_commit_id": "give either image-tag or git-commit-id, not both",
    "force_event": "use START, STOP, DELETE or CRON, or leave it empty",
    "wait": "use true or false",
    "timeout": "use seconds or a duration such as 90s, 10m, 1h",
    "poll_interval": "use a duration of at least 0.2s, such as 3s",
    "cancel_on_abort": "use true or false",
    "cancel_on_timeout": "use true or false",
    "request_timeout": "use seconds or a duration such as 30s",
    "api_url": "use https://api.qovery.com, or an http:// URL only for a server on this machine (127.0.0.1)",
    "dotenv_file": "give a writable file path",
    "debug": "use true or false",
    "jobs": "give job names or UUIDs separated by commas or newlines, such as `migrate, nightly-report`",
    "organization": "give the organization's name or UUID (optional when the token sees one organization)",
    "project": "give the project's name or UUID as in the Qovery console",
    "environment": "give the environment's name or UUID, as in the Qovery console",
    "sequential": "use true or false",
    "logs": "use on-failure, always or never",
    "console_url": "use https://console.qovery.com, or the https:// URL of your Qovery console",
}


class _NamedEnvSource(PydanticBaseSettingsSource):
    """Reads each field from one environment variable, named by `name_of(field)`; empty means unset."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str], name_of: Any) -> None:
        super().__init__(settings_cls)
        self._environ = environ
        self._name_of = name_of

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self._environ.get(self._name_of(field_name)), field_name, False

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name in self.settings_cls.model_fields:
            raw = self._environ.get(self._name_of(name), "")
            if raw.strip():
                values[name] = raw.strip()
        return values


class Settings(BaseSettings):
    """Everything the step needs, validated before any request is sent."""

    model_config = SettingsConfigDict(
        cli_kebab_case=True,
        cli_prog_name="qovery-job-deploy",
        cli_implicit_flags=False,
        cli_exit_on_error=False,
        cli_hide_none_type=True,
        cli_avoid_json=True,
        extra="forbid",
    )

    api_token: SecretStr = Field(description="Qovery API token (qov_...) or a JWT. Required.")
    auth_scheme: Literal["auto", "token", "bearer"] = Field(
        "auto", description="Authorization scheme: auto, token or bearer"
    )
    job_id: UUID | None = Field(None, description="The job's UUID (or give `jobs`)")
    image_tag: str | None = Field(None, description="Image tag to deploy")
    git_commit_id: str | None = Field(None, description="Git commit to deploy (exclusive with image-tag)")
    force_event: Literal["START", "STOP", "DELETE", "CRON"] | None = Field(
        None, description="START, STOP, DELETE or CRON, sent as forceEvent"
    )
    wait: bool = Field(True, description="Wait for a terminal state")
    timeout: float = Field(DEFAULT_TIMEOUT_SECONDS, description="How long to wait: 600, 90s, 10m, 1h")
    poll_interval: float = Field(
        DEFAULT_POLL_INTERVAL_SECONDS, description="Longest pause between two status reads"
    )
    cancel_on_abort: bool = Field(
        False, description="On SIGINT/SIGTERM, also cancel our deployment request before exiting"
    )
    cancel_on_timeout: bool = Field(
        False, description="When the wait times out, cancel our deployment request"
    )
    request_timeout: float = Field(
        DEFAULT_REQUEST_TIMEOUT_SECONDS, description="How long one HTTP request may wait for an answer"
    )
    api_url: str = Field(DEFAULT_API_URL, description="Qovery API base URL")
    dotenv_file: Path | None = Field(
        None, description="GitLab dotenv report path (default: $CI_PROJECT_DIR/qovery.env)"
    )
    debug: bool = Field(False, description="Show tracebacks")
    jobs: str | None = Field(
        None, description="One or more jobs, by name or UUID, separated by commas or newlines"
    )
    organization: str | None = Field(None, description="Organization name or UUID (for jobs given by name)")
    project: str | None = Field(None, description="Project name or UUID (for jobs given by name)")
    environment: str | None = Field(None, description="Environment name or UUID (for jobs given by name)")
    sequential: bool = Field(
        False, description="Deploy the jobs one after another, stop at the first failure"
    )
    logs: Literal["on-failure", "always", "never"] = Field(
        "on-failure", description="When to show the deployment's log: on-failure, always or never"
    )
    console_url: str = Field(DEFAULT_CONSOLE_URL, description="Qovery console base URL, for links")

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

    @field_validator("auth_scheme", "logs", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("force_event", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("timeout", "poll_interval", "request_timeout", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> float:
        return parse_duration(value)

    @field_validator("poll_interval")
    @classmethod
    def _not_hammering(cls, value: float) -> float:
        if value < MIN_POLL_INTERVAL_SECONDS:
            raise ValueError(f"must be at least {MIN_POLL_INTERVAL_SECONDS:g}s, not to hammer the API")
        return value

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
        if parts.scheme == "http" and parts.hostname and _is_loopback(parts.hostname):
            return value.strip().rstrip("/")
        raise ValueError("must be an https:// URL (http:// is allowed only for 127.0.0.1, ::1 or localhost)")

    @field_validator("console_url")
    @classmethod
    def _console_url(cls, value: str) -> str:
        return console_base(value)

    @field_validator("api_token")
    @classmethod
    def _token(cls, value: SecretStr) -> SecretStr:
        secret = value.get_secret_value().strip()
        if not secret:
            raise ValueError("is empty")
        if any(ch.isspace() for ch in secret):
            raise ValueError("contains white space (was more than the token pasted?)")
        return SecretStr(secret)

    @field_validator("jobs")
    @classmethod
    def _job_list(cls, value: str | None) -> str | None:
        if value is not None and not split_job_refs(value):
            raise ValueError("names no job")
        return value

    @model_validator(mode="after")
    def _exclusive_source(self) -> Settings:
        if self.image_tag and self.git_commit_id:
            raise _model_error("image_tag", "and git-commit-id are both set")
        return self

    @model_validator(mode="after")
    def _one_way_to_name_jobs(self) -> Settings:
        if self.job_id is not None and self.jobs:
            raise _model_error("jobs", "is set together with `job-id`; give one of them")
        if self.job_id is None and not self.jobs:
            raise _model_error("job_id", "is required, or `jobs`")
        return self

    @model_validator(mode="after")
    def _scope_for_names(self) -> Settings:
        """Jobs by name are looked up in an environment (by name, in `project` or in every project)."""
        if self.environment or all(is_uuid(ref) for ref in self.job_refs()):
            return self
        raise _model_error("environment", "is required when a job is given by name")

    def job_refs(self) -> tuple[str, ...]:
        """The jobs to deploy as the user named them: UUIDs or names, in the order given."""
        return (str(self.job_id),) if self.job_id is not None else split_job_refs(self.jobs or "")

    def authorization(self) -> str:
        """The Authorization header value: `Token` for Qovery API tokens, `Bearer` for JWTs."""
        token = self.api_token.get_secret_value()
        scheme = self.auth_scheme
        if scheme == "auto":
            scheme = "bearer" if _looks_like_jwt(token) else "token"
        return ("Bearer " if scheme == "bearer" else "Token ") + token


def is_uuid(text: str) -> bool:
    try:
        UUID(text.strip())
    except ValueError:
        return False
    return True


def _model_error(field: str, what: str) -> ValueError:
    """A rule across inputs, reported against the input named first (see `describe_validation_error`)."""
    return ValueError(f"{field}: {what}")


def split_job_refs(text: str) -> tuple[str, ...]:
    """`migrate, report` or one per line (a YAML block scalar): trimmed, empty items dropped."""
    return tuple(item.strip() for item in text.replace("\n", ",").split(",") if item.strip())


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _looks_like_jwt(token: str) -> bool:
    return not token.startswith("qov_") and token.count(".") == 2 and all(token.split("."))


def load_settings(argv: Sequence[str], environ: Mapping[str, str]) -> Settings:
    """Build and validate the settings, or raise InputError with one message per bad input."""
    try:
        values: dict[str, Any] = {}
        sources: tuple[PydanticBaseSettingsSource, ...] = (
            _NamedEnvSource(Settings, environ, qovery_env_name),
            _NamedEnvSource(Settings, environ, github_env_name),
            CliSettingsSource(Settings, cli_parse_args=list(argv)),
        )
        for source in sources:  # lowest precedence first: later ones overwrite
            values.update({k: v for k, v in source().items() if v is not None})
        return Settings(**values)
    except ValidationError as error:
        raise InputError(describe_validation_error(error)) from None
    except SettingsError:
        # argparse's own message quotes the offending arguments, and a mistyped `--token qov_...` would put
        # the token in it: name only the flags.
        raise InputError(describe_bad_command_line(argv)) from None


def describe_validation_error(error: ValidationError) -> str:
    """One line per invalid input: its name as the user wrote it, what is wrong, how to fix it.

    Built from the error's location and message only, never from the rejected value: it may be a secret.
    """
    lines = []
    for item in error.errors(include_input=False, include_url=False):
        what = "is required" if item["type"] == "missing" else str(item["msg"]).removeprefix("Value error, ")
        field = str(item["loc"][0]) if item["loc"] else ""
        if not field:  # a rule across inputs: `_model_error` put the input's name first
            field, _, what = what.partition(": ")
        name = input_name(field)
        fix = FIX_HINTS.get(field, "")
        lines.append(
            f"Invalid input `{name}` ({github_env_name(field)} / {qovery_env_name(field)} / --{name}): "
            f"{what}. Fix: {fix}."
        )
    return "\n".join(lines)


def describe_bad_command_line(argv: Sequence[str]) -> str:
    known = {"--" + input_name(name) for name in Settings.model_fields} | {"-h", "--help"}
    unknown = sorted({arg.split("=", 1)[0] for arg in argv if arg.startswith("-")} - known)
    what = (
        f"unknown flags {', '.join(unknown)}" if unknown else "a flag without its value, or a stray argument"
    )
    return f"Invalid command line: {what}. Flags take a value (--timeout 10m); run with --help for the list."
