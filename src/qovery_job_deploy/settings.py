"""One settings model: every input, from a CLI flag, a GitHub `INPUT_*` variable or a `QOVERY_*` variable.

Precedence: `--job-id` flag, then `INPUT_JOB-ID` (GitHub keeps the hyphen), then `QOVERY_JOB_ID`.
An empty value counts as unset, because the GitHub runner sets every declared input, empty when not given.

The command line is parsed by a small argparse parser built from the model's fields (`cli_parser`), so that
`--help` speaks the user's terms (DURATION, true|false, `30m`) and every error can say where the rejected
value came from. Adding an input is one field here (and, if it needs one, a row in FIX_HINTS or METAVARS).
"""

from __future__ import annotations

import argparse
import difflib
import ipaddress
import re
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from urllib.parse import urlsplit
from uuid import UUID

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from qovery_job_deploy.console import DEFAULT_CONSOLE_URL, console_base
from qovery_job_deploy.errors import InputError
from qovery_job_deploy.text import one_line

PROG = "qovery-job-deploy"
DEFAULT_API_URL = "https://api.qovery.com"
DEFAULT_TIMEOUT_SECONDS = 30 * 60.0
# The longest pause between two status reads. 3 s matches the cadence of Qovery's own CLI, so we never
# read more than it does, while the adaptive schedule (see `polling.py`) reads earlier when that pays off.
DEFAULT_POLL_INTERVAL_SECONDS = 3.0

DEFAULT_REQUEST_TIMEOUT_SECONDS = 30.0
MIN_POLL_INTERVAL_SECONDS = 0.2
HOUR = 3600.0

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


@dataclass(frozen=True)
class Duration:
    """Field metadata: the input is a duration (`90`, `90s`, `10m`, `1h`), within these bounds (seconds).

    The upper bound keeps absurd values (`9999999h`) an input error instead of an overflow later on.
    """

    minimum: float
    maximum: float
    why_minimum: str = ""

    def check(self, seconds: float) -> float:
        if seconds < self.minimum:
            raise ValueError(f"must be at least {format_duration(self.minimum)}{self.why_minimum}")
        if seconds > self.maximum:
            raise ValueError(f"must be at most {format_duration(self.maximum)}")
        return seconds


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


def format_duration(seconds: float) -> str:
    """The shortest exact way to write a duration as a user would: 1800 -> `30m`, 0.2 -> `0.2s`."""
    for unit, size in (("h", 3600.0), ("m", 60.0)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def input_name(field: str) -> str:
    """The user-facing name of a field: `job_id` -> `job-id`."""
    return field.replace("_", "-")


def flag_name(field: str) -> str:
    return "--" + input_name(field)


def github_env_name(field: str) -> str:
    return "INPUT_" + input_name(field).upper()


def qovery_env_name(field: str) -> str:
    return "QOVERY_" + field.upper()


# How to fix each input, appended to its validation message.
FIX_HINTS: dict[str, str] = {
    "api_token": "create an API token in the Qovery console (Organization settings > API tokens) and pass it "
    "from a secret as `api-token` (GitHub) or QOVERY_API_TOKEN",
    "auth_scheme": "use auto, token or bearer",
    "job_id": "copy the job's id from its URL in the Qovery console "
    "(…/environment/<environment id>/service/<job id>/…)",
    "image_tag": "give either image-tag or git-commit-id, not both",
    "git_commit_id": "give either image-tag or git-commit-id, not both",
    "force_event": "use START, STOP, DELETE or CRON, or leave it empty",
    "wait": "use true or false",
    "timeout": "use seconds or a duration such as 90s, 10m, 1h",
    "poll_interval": "use a duration such as 3s",
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

# What `--help` shows after a flag, where the type alone does not say it (see `metavar`).
METAVARS: dict[str, str] = {
    "api_token": "TOKEN",
    "api_url": "URL",
    "console_url": "URL",
    "image_tag": "TAG",
    "git_commit_id": "SHA",
    "dotenv_file": "FILE",
    "jobs": "NAME|UUID,...",
    "organization": "NAME|UUID",
    "project": "NAME|UUID",
    "environment": "NAME|UUID",
}

# A few of pydantic's messages in the user's terms; the others are shown as pydantic words them.
ERROR_WORDS: dict[str, str] = {
    "missing": "is required",
    "bool_parsing": "is neither true nor false",
    "uuid_parsing": "is not a UUID (8-4-4-4-12 hexadecimal digits)",
}

# Inputs that exclude each other: checked on the raw values, so that the check runs even when other
# inputs are invalid too (a model validator would only run once every field is valid).
EXCLUSIVE: tuple[tuple[str, str], ...] = (("image_tag", "git_commit_id"), ("job_id", "jobs"))


def exclusive_message(first: str, second: str) -> str:
    return f"{input_name(first)} and {input_name(second)} are both set"


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
    job_id: UUID | None = Field(None, description="The job to deploy (or give `jobs`).")
    image_tag: str | None = Field(None, description="Image tag to deploy (exclusive with git-commit-id).")
    git_commit_id: str | None = Field(None, description="Git commit to deploy (exclusive with image-tag).")
    force_event: Literal["START", "STOP", "DELETE", "CRON"] | None = Field(
        None, description="Sent as forceEvent. STOP expects STOPPED, DELETE expects DELETED."
    )
    wait: bool = Field(True, description="Wait for the deployment to end (false: succeed once accepted).")
    timeout: Annotated[float, Duration(1.0, 24 * HOUR)] = Field(
        DEFAULT_TIMEOUT_SECONDS, description="How long to wait for the end (exit code 124 when it runs out)."
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
        None, description="GitLab dotenv report path (default: $CI_PROJECT_DIR/qovery.env)."
    )
    debug: bool = Field(False, description="Show the traceback of unexpected errors.")
    jobs: str | None = Field(
        None, description="One or more jobs, by name or UUID, separated by commas or newlines."
    )
    organization: str | None = Field(None, description="Organization name or UUID (for jobs given by name).")
    project: str | None = Field(None, description="Project name or UUID (for jobs given by name).")
    environment: str | None = Field(None, description="Environment name or UUID (for jobs given by name).")
    sequential: bool = Field(
        False, description="Deploy the jobs one after another, stop at the first failure."
    )
    logs: Literal["on-failure", "always", "never"] = Field(
        "on-failure", description="When to show the deployment's log."
    )
    console_url: str = Field(DEFAULT_CONSOLE_URL, description="Qovery console base URL, for links.")

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
    def _upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

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
    def _exclusive_inputs(self) -> Settings:
        for first, second in EXCLUSIVE:
            if getattr(self, first) and getattr(self, second):
                raise _model_error(first, exclusive_message(first, second))
        return self

    @model_validator(mode="after")
    def _a_job_to_deploy(self) -> Settings:
        # Both at once is an exclusion (EXCLUSIVE), reported even when other inputs are wrong too.
        if self.job_id is None and not self.jobs:
            raise _model_error("job_id", "is required (or give `jobs`)")
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


def duration_bounds(field: FieldInfo) -> Duration | None:
    return next((item for item in field.metadata if isinstance(item, Duration)), None)


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


_JWT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")  # three base64url parts


def _looks_like_jwt(token: str) -> bool:
    return not token.startswith("qov_") and _JWT.fullmatch(token) is not None


# -- where each value came from ------------------------------------------------------------------------


@dataclass(frozen=True)
class Given:
    """One input's raw value and where it came from: `--timeout`, `INPUT_TIMEOUT` or `QOVERY_TIMEOUT`."""

    value: str
    origin: str

    def describe(self, *, secret: bool) -> str:
        where = describe_origin(self.origin)
        if secret or looks_like_a_token(self.value):
            return f"value not shown, from {where}"
        return f"`{one_line(self.value, 80)}` from {where}"


def describe_origin(origin: str) -> str:
    if origin.startswith("-"):
        return f"the flag {origin}"
    if origin.startswith("INPUT_"):
        return f"the GitHub input `{origin.removeprefix('INPUT_').lower()}`"
    return f"the environment variable {origin}"


def looks_like_a_token(value: str) -> bool:
    """A token pasted into the wrong input must not be printed back either."""
    text = value.strip()
    return text.startswith("qov_") or _looks_like_jwt(text)


def gather(argv: Sequence[str], environ: Mapping[str, str]) -> dict[str, Given]:
    """Every given input, the one with the highest precedence winning: flag, then INPUT_*, then QOVERY_*."""
    given: dict[str, Given] = {}
    for name in Settings.model_fields:
        for variable in (qovery_env_name(name), github_env_name(name)):  # lowest precedence first
            raw = environ.get(variable, "")
            if raw.strip():
                given[name] = Given(raw, variable)
    given.update(parse_command_line(argv))
    return given


def load_settings(argv: Sequence[str], environ: Mapping[str, str]) -> Settings:
    """Build and validate the settings, or raise InputError with one line per problem."""
    given = gather(argv, environ)
    exclusions = [
        exclusion_problem(first, second, given)
        for first, second in EXCLUSIVE
        if given.get(first) and given.get(second)
    ]
    try:
        values: dict[str, Any] = {name: item.value for name, item in given.items()}
        return Settings(**values)
    except ValidationError as error:
        raise InputError("\n".join(describe_validation_error(error, given) + exclusions)) from None


def changed_inputs(settings: Settings, given: Mapping[str, Given]) -> str:
    """The optional inputs not at their default and where each came from (`gather`), so that a forgotten
    `QOVERY_TIMEOUT=5s` in the environment shows in the log; empty when all are at their default."""
    changed = [
        f"{input_name(name)} {given[name].describe(secret=name == 'api_token')}"
        for name, field in Settings.model_fields.items()
        if not field.is_required() and name in given and getattr(settings, name) != field.default
    ]
    return "; ".join(changed)


def exclusion_problem(first: str, second: str, given: Mapping[str, Given]) -> str:
    both = "; ".join(f"{input_name(name)} {given[name].describe(secret=False)}" for name in (first, second))
    return (
        f"Invalid input `{input_name(first)}`: {exclusive_message(first, second)} ({both}). "
        f"Fix: give either `{input_name(first)}` or `{input_name(second)}`, not both."
    )


def describe_validation_error(error: ValidationError, given: Mapping[str, Given]) -> list[str]:
    """One line per invalid input: its name, what is wrong, the rejected value and its source (never the
    token's), how to fix it. Model-level errors that `load_settings` reports itself are left out."""
    known = {exclusive_message(first, second) for first, second in EXCLUSIVE}
    lines = []
    for item in error.errors(include_input=False, include_url=False):
        what = ERROR_WORDS.get(item["type"]) or str(item["msg"]).removeprefix("Value error, ")
        field = str(item["loc"][0]) if item["loc"] else ""
        if not field:  # a rule across inputs: `_model_error` put the input's name first
            field, _, what = what.partition(": ")
            if what in known:
                continue
        name = f"`{input_name(field)}`"
        if field in given:
            name += f" ({given[field].describe(secret=field == 'api_token')})"
        elif what.startswith("is required"):
            what += f": set {flag_name(field)}, the GitHub input `{input_name(field)}`"
            what += f" or {qovery_env_name(field)}"
        fix = FIX_HINTS.get(field)
        lines.append(f"Invalid input {name}: {what}." + (f" Fix: {fix}." if fix else ""))
    return lines


# -- the command line -----------------------------------------------------------------------------------


class _Remember(argparse.Action):
    """Stores (value, flag): a bare boolean flag means true, `--no-wait` false."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        value = self.const if values is None or values == [] else values
        setattr(namespace, self.dest, Given(str(value), option_string or self.dest))


class _Refused(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        raise _Refused(message)  # argparse would print and exit; we report it as an input error


def _plain_type(field: FieldInfo) -> Any:
    """The annotation without `| None`."""
    annotation = field.annotation
    if get_origin(annotation) in (Union, types.UnionType):
        args = [arg for arg in get_args(annotation) if arg is not type(None)]
        annotation = args[0] if len(args) == 1 else annotation
    return annotation


_TYPE_METAVARS: dict[Any, str] = {bool: "true|false", UUID: "UUID", Path: "FILE"}


def metavar(name: str, field: FieldInfo) -> str:
    """What a user types after the flag: DURATION, true|false, auto|token|bearer, UUID, ..."""
    annotation = _plain_type(field)
    if name in METAVARS:
        return METAVARS[name]
    if duration_bounds(field) is not None:
        return "DURATION"
    if get_origin(annotation) is Literal:
        return "|".join(str(choice) for choice in get_args(annotation))
    return _TYPE_METAVARS.get(annotation, input_name(name).upper().replace("-", "_"))


def shown_default(field: FieldInfo) -> str | None:
    """The default as a user would write it (`30m`, `true`), or None when there is none worth showing."""
    default = field.default
    if default is None or default is PydanticUndefined:
        return None
    if duration_bounds(field) is not None:
        return format_duration(float(default))
    if isinstance(default, bool):
        return "true" if default else "false"
    return str(default)


def field_help(name: str, field: FieldInfo) -> str:
    parts = [field.description or ""]
    bounds = duration_bounds(field)
    if field.is_required():
        parts.append("Required.")
    elif (default := shown_default(field)) is not None:
        parts.append(f"Default: {default}.")
    if bounds is not None:
        parts.append(f"From {format_duration(bounds.minimum)} to {format_duration(bounds.maximum)}.")
    parts.append(f"[{qovery_env_name(name)}]")
    return " ".join(part for part in parts if part).replace("%", "%%")


def cli_parser(description: str = "", epilog: str = "") -> argparse.ArgumentParser:
    """The command line, built from the model's fields: one flag per input (help and version are handled
    by the caller, before any input is read)."""
    parser = _Parser(
        prog=PROG,
        usage=f"{PROG} [OPTION ...]\n       {PROG} demo [SCENARIO]",
        description=description,
        epilog=epilog,
        add_help=False,
        allow_abbrev=False,
        formatter_class=lambda prog: argparse.RawDescriptionHelpFormatter(prog, max_help_position=32),
    )
    options = parser.add_argument_group("options (each also an environment variable, shown in brackets)")
    for name, field in Settings.model_fields.items():
        is_bool = _plain_type(field) is bool
        options.add_argument(
            flag_name(name),
            dest=name,
            action=_Remember,
            nargs="?" if is_bool else None,
            const="true" if is_bool else None,
            metavar=metavar(name, field),
            help=field_help(name, field),
        )
        if is_bool:
            options.add_argument(
                f"--no-{input_name(name)}",
                dest=name,
                action=_Remember,
                nargs=0,
                const="false",
                help=argparse.SUPPRESS,
            )
    options.add_argument("-V", "--version", action="store_true", help="Print the version and exit.")
    options.add_argument("-h", "--help", action="store_true", help="Print this help and exit.")
    return parser


def known_flags() -> list[str]:
    return [flag for action in cli_parser()._actions for flag in action.option_strings]


def parse_command_line(argv: Sequence[str]) -> dict[str, Given]:
    """The inputs given as flags, or InputError naming each problem (never echoing a value: a mistyped
    `--token qov_...` would put the token in the message)."""
    try:
        namespace, extra = cli_parser().parse_known_args(list(argv))
    except _Refused as refused:
        raise InputError(describe_refusal(str(refused))) from None
    if extra:
        raise InputError("\n".join(describe_unknown(extra)))
    return {
        name: value
        for name, value in vars(namespace).items()
        if isinstance(value, Given) and value.value.strip()
    }


def describe_refusal(message: str) -> str:
    flag = next((word.rstrip(":") for word in message.split() if word.startswith("--")), "a flag")
    if "expected one argument" in message:
        return f"Invalid command line: {flag} needs a value, as in `--timeout 10m`. See `{PROG} --help`."
    if "ignored explicit argument" in message:
        return f"Invalid command line: {flag} takes no value. See `{PROG} --help`."
    return f"Invalid command line near {flag}. See `{PROG} --help`."


def describe_unknown(extra: Sequence[str]) -> list[str]:
    lines = []
    flags = known_flags()
    for index, arg in enumerate(extra):
        follows_unknown_flag = index > 0 and extra[index - 1].startswith("-") and "=" not in extra[index - 1]
        if not arg.startswith("-") and follows_unknown_flag:
            continue  # the value of the mistyped flag just reported: one problem, one line
        if not arg.startswith("-"):
            lines.append(
                "Invalid command line: a value without a flag before it (flags take their value after "
                f"them, as `--timeout 10m`). See `{PROG} --help`."
            )
            continue
        flag = arg.split("=", 1)[0]
        if looks_like_a_token(flag.lstrip("-")):
            flag = "--(a token)"
        close = difflib.get_close_matches(flag, flags, n=1, cutoff=0.6)
        suggestion = f" Did you mean `{close[0]}`?" if close else ""
        lines.append(
            f"Invalid command line: unknown flag `{one_line(flag, 40)}`.{suggestion} See `{PROG} --help`."
        )
    return list(dict.fromkeys(lines))  # a stray value after each of several flags: say it once
