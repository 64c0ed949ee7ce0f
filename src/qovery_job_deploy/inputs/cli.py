"""The command line: a small argparse parser built from the model's fields (`cli_parser`), so that `--help`
speaks the user's terms (DURATION, true|false, `30m`) and every error can say where the rejected value came
from; and the command line's own errors (a missing value, an unknown flag), never echoing a value.
"""

from __future__ import annotations

import argparse
import difflib
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin
from uuid import UUID

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from qovery_job_deploy.errors import InputError
from qovery_job_deploy.identity import is_uuid
from qovery_job_deploy.inputs.durations import duration_bounds, format_duration
from qovery_job_deploy.inputs.model import Settings
from qovery_job_deploy.inputs.names import Given, flag_name, holds_a_token, input_name, qovery_env_name
from qovery_job_deploy.invocation import PROG, commands
from qovery_job_deploy.kinds import FORCE_EVENTS
from qovery_job_deploy.text import one_line

# What `--help` shows after a flag, where the type alone does not say it (see `metavar`).
METAVARS: dict[str, str] = {
    "api_token": "TOKEN",
    "api_url": "URL",
    "console_url": "URL",
    "image_tag": "TAG",
    "git_commit_id": "SHA",
    "chart_version": "VERSION",
    "force_event": "|".join(FORCE_EVENTS),
    "dotenv_file": "FILE",
    "jobs": "NAME|UUID,...",
    "services": "NAME|UUID|TYPE:NAME,...",
    "organization": "NAME|UUID",
    "project": "NAME|UUID",
    "environment": "NAME|UUID",
    "clone_from": "NAME|UUID",
    "github_token": "TOKEN",
    "github_environment": "NAME",
}


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


def _help() -> str:
    """`.venv/bin/qovery-job-deploy --help`: the help command as this shell runs this installation."""
    return f"{commands().step} --help"


def describe_refusal(message: str) -> str:
    flag = next((word.rstrip(":") for word in message.split() if word.startswith("--")), "a flag")
    if "expected one argument" in message:
        return f"Invalid command line: {flag} needs a value after it (`{flag} VALUE`). See `{_help()}`."
    if "ignored explicit argument" in message:
        return f"Invalid command line: {flag} takes no value. See `{_help()}`."
    return f"Invalid command line near {flag}. See `{_help()}`."


def describe_stray(arg: str) -> str:
    """A value with no flag before it (`qovery-job-deploy migrate`): shown, unless part of it looks like a
    token, with the flag it most likely needs (a UUID names a job by id, anything else a job by name)."""
    if holds_a_token(arg):
        return (
            "Invalid command line: a value without a flag before it (not shown: it looks like a token). "
            f"Fix: pass the token as QOVERY_API_TOKEN, and give every other value after its flag. "
            f"See `{_help()}`."
        )
    shown = one_line(arg, 60)
    flag = "--job-id" if is_uuid(arg) else "--jobs"
    return (
        f"Invalid command line: `{shown}` has no flag before it (each value follows its flag). Fix: to "
        f"deploy it, give `{flag} {shown}` (`--services {shown}` for another type of service; a name also "
        f"needs `--environment`). See `{_help()}`."
    )


def describe_unknown(extra: Sequence[str]) -> list[str]:
    lines = []
    flags = known_flags()
    for index, arg in enumerate(extra):
        follows_unknown_flag = index > 0 and extra[index - 1].startswith("-") and "=" not in extra[index - 1]
        if not arg.startswith("-") and follows_unknown_flag:
            continue  # the value of the mistyped flag just reported: one problem, one line
        if not arg.startswith("-"):
            lines.append(describe_stray(arg))
            continue
        flag = arg.split("=", 1)[0]
        if holds_a_token(flag.lstrip("-")):
            flag = "--(a token)"
        close = difflib.get_close_matches(flag, flags, n=1, cutoff=0.6)
        suggestion = f" Did you mean `{close[0]}`?" if close else ""
        lines.append(
            f"Invalid command line: unknown flag `{one_line(flag, 40)}`.{suggestion} See `{_help()}`."
        )
    return list(dict.fromkeys(lines))  # a stray value after each of several flags: say it once
