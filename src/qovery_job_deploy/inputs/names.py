"""What each input is called (`job_id`: `--job-id`, the GitHub input `job-id`, `QOVERY_JOB_ID`) on each CI
platform (`Platform`: the words its users know), and one given value with where it came from (`Given`),
described for messages without ever printing a token back.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from qovery_job_deploy.text import one_line

# The inputs whose value is never shown, wherever it came from, and never listed among the changed inputs.
SECRET_INPUTS = ("api_token", "github_token")
# Where a `run:` step or `docker run` gives the GitHub token, when no `github-token` input does.
GITHUB_TOKEN_VARIABLE = "GITHUB_TOKEN"  # noqa: S105 (a variable's name)
# GitHub's token prefixes (a personal, an OAuth, a user-to-server, a server-to-server, a refresh token, a
# fine-grained personal token): a GitHub token pasted into another input is not printed back either.
GITHUB_TOKEN_PREFIXES = ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_")


def input_name(field: str) -> str:
    """The user-facing name of a field: `job_id` -> `job-id`."""
    return field.replace("_", "-")


def flag_name(field: str) -> str:
    return "--" + input_name(field)


def github_env_name(field: str) -> str:
    return "INPUT_" + input_name(field).upper()


def qovery_env_name(field: str) -> str:
    return "QOVERY_" + field.upper()


@dataclass(frozen=True)
class Platform:
    """Where the step runs, in the words its users know: how they call a `QOVERY_*` variable, and how they
    set an input that is missing. `marker` is the variable the platform sets to `true` (none: `docker run`
    or a terminal, where a value is an environment variable or a flag). Templates take {input}, {variable}
    and {flag}, the input's names (`job-id`, `QOVERY_JOB_ID`, `--job-id`)."""

    name: str
    marker: str
    variable: str  # a QOVERY_* variable, as the platform's users call it
    called: str  # where an input is set, as the platform's users call it
    set_input: str  # how to set a missing input
    keep_api_key: str  # how to pass the token, which never goes in a file or a flag

    def origin(self, origin: str) -> str:
        """Where a value came from: `the flag --timeout`, `the GitHub input `timeout``, `the variable ...`."""
        if origin.startswith("-"):
            return f"the flag {origin}"
        if origin.startswith("INPUT_"):  # only GitHub's runner sets these
            return f"the GitHub input `{origin.removeprefix('INPUT_').lower()}`"
        return self.variable.format(variable=origin)

    def where(self, field: str) -> str:
        """Where an input is set: `the variable QOVERY_API_TOKEN`, `the input `api-token``."""
        return self.called.format(**_names(field))

    def unset(self, field: str) -> str:
        """What is empty when an input is missing: `the variable QOVERY_API_TOKEN is not set`."""
        return f"{self.where(field)} is not set"

    def how_to_set(self, field: str) -> str:
        """How to give an input here: `set the variable QOVERY_JOB_ID (in the job's `variables:`)`."""
        return (self.keep_api_key if field == "api_token" else self.set_input).format(**_names(field))


def _names(field: str) -> dict[str, str]:
    return {"input": input_name(field), "variable": qovery_env_name(field), "flag": flag_name(field)}


GITHUB = Platform(
    "github",
    "GITHUB_ACTIONS",
    variable="the environment variable {variable}",
    called="the input `{input}`",
    set_input="set `{input}` in the step's `with:`",
    keep_api_key="store it as a repository secret and pass it as "
    "`with: api-token: ${{{{ secrets.QOVERY_API_TOKEN }}}}`",
)
GITLAB = Platform(
    "gitlab",
    "GITLAB_CI",
    variable="the variable {variable}",
    called="the variable {variable}",
    set_input="set the variable {variable} (in the job's `variables:`)",
    keep_api_key="store it as a masked CI/CD variable named QOVERY_API_TOKEN (Settings > CI/CD > Variables)",
)
PLAIN = Platform(
    "plain",
    "",
    variable="the environment variable {variable}",
    called="the environment variable {variable}",
    set_input="set the environment variable {variable}, or give {flag}",
    keep_api_key="pass it in the environment variable QOVERY_API_TOKEN (`docker run -e QOVERY_API_TOKEN`, or "
    "`export QOVERY_API_TOKEN=...` before the command)",
)
PLATFORMS = (GITHUB, GITLAB, PLAIN)  # the first whose marker is `true` (PLAIN has none: the last resort)


def platform_of(environ: Mapping[str, str]) -> Platform:
    """The platform this environment is: the one rule, which `runners.detect` follows too."""
    return next(row for row in PLATFORMS if not row.marker or environ.get(row.marker) == "true")


@dataclass(frozen=True)
class Given:
    """One input's raw value and where it came from (`--timeout`, `INPUT_TIMEOUT` or `QOVERY_TIMEOUT`), said
    in the words of the platform it was given on."""

    value: str
    origin: str
    platform: Platform = PLAIN

    def describe(self, *, secret: bool) -> str:
        where = self.platform.origin(self.origin)
        if secret or looks_like_a_token(self.value):
            return f"value not shown, from {where}"
        if any(looks_like_a_token(item) for item in re.split(r"[\s,]+", self.value)):
            # A list (`jobs`, `services`) with a token pasted among its names: not shown either.
            return f"value not shown (an item looks like a token), from {where}"
        # A list given one item per line (a YAML block scalar) is shown as the comma list it means.
        lines = [line.strip() for line in self.value.splitlines() if line.strip()]
        shown = ", ".join(lines) if len(lines) > 1 else self.value
        return f"`{one_line(shown, 80)}` from {where}"


def looks_like_a_token(value: str) -> bool:
    """A token pasted into the wrong input must not be printed back either: a value with a real token's
    shape (`qov_...`, a GitHub token, or a JWT: three base64url parts, the first a JSON header). A
    version-like tag such as `v1.2.3` is shown, as every other value is."""
    text = value.strip()
    return text.startswith(("qov_", *GITHUB_TOKEN_PREFIXES)) or (
        _looks_like_jwt(text) and _json_header(text.split(".")[0])
    )


def _json_header(part: str) -> bool:
    try:
        decoded = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        return isinstance(json.loads(decoded), dict)
    except (ValueError, binascii.Error):  # not base64, not UTF-8, not JSON
        return False


# Three base64url parts; an unsecured JWT's (`"alg": "none"`) third part, the signature, is empty.
_JWT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def _looks_like_jwt(token: str) -> bool:
    return not token.startswith("qov_") and _JWT.fullmatch(token) is not None
