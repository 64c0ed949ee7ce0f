"""Where each input comes from: a CLI flag, a GitHub `INPUT_*` variable or a `QOVERY_*` variable.

Precedence: `--job-id` flag, then `INPUT_JOB-ID` (GitHub keeps the hyphen), then `QOVERY_JOB_ID`.
An empty value counts as unset, because the GitHub runner sets every declared input, empty when not given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from qovery_job_deploy.errors import InputError
from qovery_job_deploy.inputs.cli import parse_command_line
from qovery_job_deploy.inputs.messages import EXCLUSIVE, describe_validation_error, exclusion_problem
from qovery_job_deploy.inputs.model import Settings
from qovery_job_deploy.inputs.names import (
    SECRET_INPUTS,
    Given,
    github_env_name,
    input_name,
    platform_of,
    qovery_env_name,
)
from qovery_job_deploy.inputs.previews import preview_problems
from qovery_job_deploy.inputs.variables import NearMiss, input_variables, near_misses


def gather(argv: Sequence[str], environ: Mapping[str, str]) -> dict[str, Given]:
    """Every given input, the one with the highest precedence winning: flag, then INPUT_*, then QOVERY_*."""
    given: dict[str, Given] = {}
    platform = platform_of(environ)
    for name in Settings.model_fields:
        for variable in (qovery_env_name(name), github_env_name(name)):  # lowest precedence first
            raw = environ.get(variable, "")
            if raw.strip():
                given[name] = Given(raw, variable, platform)
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
        settings = Settings(**values)
    except ValidationError as error:
        problems = describe_validation_error(
            error, given, platform_of(environ), misspelled_variables(environ)
        )
        raise InputError("\n".join(problems + exclusions)) from None
    if problems := preview_problems(settings, given, platform_of(environ)):  # across inputs, once valid
        raise InputError("\n".join(problems))
    return settings


def misspelled_variables(environ: Mapping[str, str]) -> list[NearMiss]:
    """The variables set that no input reads but one input's variable is a typo away from
    (`QOVERY_SEQUENTAIL`), each with the variable it likely means (`variables.near_misses`)."""
    return near_misses(environ, Settings.model_fields)


def input_values(environ: Mapping[str, str]) -> list[str]:
    """The value of each input's variable (`QOVERY_*`, `INPUT_*`) that is set, read before validation."""
    return [environ[variable] for variable in input_variables(Settings.model_fields) if variable in environ]


def changed_inputs(settings: Settings, given: Mapping[str, Given]) -> str:
    """The optional inputs not at their default and where each came from (`gather`), so that a forgotten
    `QOVERY_TIMEOUT=5s` in the environment shows in the log; empty when all are at their default. A secret
    is never listed (the action passes the workflow's GitHub token on every run)."""
    changed = [
        f"{input_name(name)} {given[name].describe(secret=False)}"
        for name, field in Settings.model_fields.items()
        if not field.is_required()
        and name not in SECRET_INPUTS
        and name in given
        and getattr(settings, name) != field.default
    ]
    return "; ".join(changed)
