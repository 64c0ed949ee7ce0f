"""The inputs' error text: one line per problem, naming the input, what is wrong, the rejected value and
where it came from (never a token), and how to fix it (FIX_HINTS).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import ValidationError

from qovery_job_deploy.inputs.names import SECRET_INPUTS, Given, Platform, holds_a_token, input_name
from qovery_job_deploy.inputs.variables import NearMiss
from qovery_job_deploy.text import one_line

# What a boolean input takes: pydantic's words for true and false, in any case (a test keeps them so).
BOOLEAN_WORDS = (("true", "false"), ("yes", "no"), ("on", "off"), ("1", "0"), ("y", "n"), ("t", "f"))
BOOLEAN_FIX = (
    f"use true or false (also {', '.join('/'.join(pair) for pair in BOOLEAN_WORDS[1:])}, in any case)"
)

# How to fix each input, appended to its validation message.
FIX_HINTS: dict[str, str] = {
    # then, in the platform's words, where to put it (`Platform.how_to_set`)
    "api_token": "create an API token in the Qovery console (Organization settings > API tokens), then",
    "auth_scheme": "use auto, token or bearer",
    "job_id": "copy the job's id from its URL in the Qovery console "
    "(…/environment/<environment id>/service/<job id>/…)",
    "force_event": "give an event the services you deploy take, or leave it empty",
    "apply_immediately": BOOLEAN_FIX,
    "wait": BOOLEAN_FIX,
    "timeout": "use seconds or a duration such as 90s, 1m30s, 10m, 1h",
    "poll_interval": "use a duration such as 3s",
    "cancel_on_abort": BOOLEAN_FIX,
    "cancel_on_timeout": BOOLEAN_FIX,
    "request_timeout": "use seconds or a duration such as 30s",
    "api_url": "use https://api.qovery.com, or an http:// URL only for a server on this machine (127.0.0.1)",
    "dotenv_file": "give a writable file path",
    "debug": BOOLEAN_FIX,
    "jobs": "give job names or UUIDs separated by commas or newlines, such as `migrate, nightly-report`",
    "services": "give service names or UUIDs separated by commas or newlines, each with its type and a colon "
    "when you want to say it, such as `container:api, helm:ingress, migrate`; a name that contains ':' needs "
    "its type first, as `container:api:v2`",
    "organization": "give the organization's name or UUID (optional when the token sees one organization)",
    "project": "give the project's name or UUID as in the Qovery console",
    "environment": "give the environment's name or UUID, as in the Qovery console",
    "clone_from": "give the name or UUID of the environment to clone, in the project of `environment`",
    "delete_environment": BOOLEAN_FIX,
    "sequential": BOOLEAN_FIX,
    "dry_run": BOOLEAN_FIX,
    "logs": "use on-failure, always, never or live",
    "console_url": "use https://console.qovery.com, or the https:// URL of your Qovery console",
    "github_deployment": BOOLEAN_FIX,
    "github_token": "pass the token alone, as `github-token: ${{ github.token }}` (the action's default) or "
    "a secret; elsewhere set GITHUB_TOKEN",
    "github_environment": "give the name GitHub shows for the environment, or leave it empty for the Qovery "
    "environment's name",
    "pr_comment": BOOLEAN_FIX,
}

# A few of pydantic's messages in the user's terms; the others are shown as pydantic words them.
ERROR_WORDS: dict[str, str] = {
    "missing": "is required",
    "bool_parsing": "is neither true nor false",
    "uuid_parsing": "is not a UUID (8-4-4-4-12 hexadecimal digits)",
    "literal_error": "is none of the values it takes",  # which ones: the fix says
}

# Inputs that exclude each other: checked on the raw values, so that the check runs even when other
# inputs are invalid too (a model validator would only run once every field is valid).
# `job-id`, `jobs` and `services` are the three ways to say what to deploy: one at a time.
EXCLUSIVE: tuple[tuple[str, str], ...] = (("job_id", "jobs"), ("job_id", "services"), ("jobs", "services"))
# What an input's "is required" error also accepts: a near-miss variable of any of them is named there.
REQUIRED_ALTERNATIVES: dict[str, tuple[str, ...]] = {"job_id": ("job_id", "jobs", "services")}


def exclusive_message(first: str, second: str) -> str:
    return f"{input_name(first)} and {input_name(second)} are both set"


def _model_error(field: str, what: str) -> ValueError:
    """A rule across inputs, reported against the input named first (see `describe_validation_error`)."""
    return ValueError(f"{field}: {what}")


def exclusion_problem(first: str, second: str, given: Mapping[str, Given]) -> str:
    both = "; ".join(f"{input_name(name)} {given[name].describe(secret=False)}" for name in (first, second))
    return (
        f"Invalid input `{input_name(first)}`: {exclusive_message(first, second)} ({both}). "
        f"Fix: give either `{input_name(first)}` or `{input_name(second)}`, not both."
    )


def _a_name_for_job_id(given: Given, platform: Platform) -> str | None:
    """`job-id` given a name (`migrate`): the input that takes names, in the platform's words; None for a
    value that looks like neither (a token is never echoed)."""
    value = given.value.strip()
    if holds_a_token(value) or not value or any(ch.isspace() or ch == "," for ch in value):
        return None
    return (
        f"`job-id` takes a job's UUID; to deploy `{one_line(value, 80)}` by its name, give it in `jobs` "
        f"instead ({platform.how_to_set('jobs')}), with `environment` (its environment's name or UUID)"
    )


def describe_validation_error(
    error: ValidationError,
    given: Mapping[str, Given],
    platform: Platform,
    near_misses: Sequence[NearMiss] = (),
) -> list[str]:
    """One line per invalid input: its name, what is wrong, the rejected value and its source (never the
    token's), how to fix it, in the platform's words; a required input that is missing names the variable
    set that likely meant it (`near_misses`: `QOVERY_SERVICE` for `services`). Model-level errors that
    `load_settings` reports itself are left out."""
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
            name += f" ({given[field].describe(secret=field in SECRET_INPUTS)})"
        elif item["type"] == "missing":
            what += f", and {platform.unset(field)}"  # its fix says where to set it
        elif what.startswith("is required"):
            what += f": {platform.how_to_set(field)}"
        if what.startswith("is required") and field not in given:
            meant = REQUIRED_ALTERNATIVES.get(field, (field,))
            what += "".join(f"; {miss.hint()}" for miss in near_misses if miss.field in meant)
        fix = FIX_HINTS.get(field)
        if field == "api_token":
            fix = f"{fix} {platform.how_to_set(field)}"
        elif (
            field == "job_id"
            and item["type"] == "uuid_parsing"
            and field in given
            and (pointer := _a_name_for_job_id(given[field], platform))
        ):
            fix = f"{pointer}; or {fix}"
        lines.append(f"Invalid input {name}: {what}." + (f" Fix: {fix}." if fix else ""))
    return lines
