"""What each input is called (`job_id`: `--job-id`, the GitHub input `job-id`, `QOVERY_JOB_ID`) on each CI
platform (`Platform`: the words its users know), and one given value with where it came from (`Given`),
described for messages without ever printing a token back.
"""

from __future__ import annotations

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
TOKEN_PREFIXES = ("qov_", *GITHUB_TOKEN_PREFIXES)
# A token anywhere in a text, whatever is around it (`'qov_...'`, `[qov_...]`, `migrate;qov_...`,
# `x=eyJ...`): a prefix followed by at least 8 of its token's characters (`qov_` alone, or a name such as
# `ghs_backup`, is none; a real token has 36 or more), or a JWT: `eyJ` (a JSON header's `{"` in
# base64url), then three dot-separated base64url parts, the third, the signature, empty in an unsecured
# JWT (`"alg": "none"`).
_TOKEN = re.compile(
    r"qov_[A-Za-z0-9_-]{8,}"
    r"|github_pat_[A-Za-z0-9_]{8,}"
    r"|gh[pousr]_[A-Za-z0-9]{8,}"
    r"|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"
)
_ITEMS = re.compile(r"[\s,]+")  # between the items of a list (`jobs`, `services`)


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
        if holds_a_token(self.value):
            # A token among a list's names (`jobs`, `services`), or inside any text: not shown either.
            return f"value not shown (part of it looks like a token), from {where}"
        # A list given one item per line (a YAML block scalar) is shown as the comma list it means.
        lines = [line.strip() for line in self.value.splitlines() if line.strip()]
        shown = ", ".join(lines) if len(lines) > 1 else self.value
        return f"`{one_line(shown, 80)}` from {where}"


def find_tokens(text: str) -> list[str]:
    """Every token inside `text`, in order: a Qovery token (`qov_...`), a GitHub token (`ghp_...`,
    `github_pat_...`) or a JWT, wherever it starts and whatever follows it (`'qov_...'`, `a:ghp_...`)."""
    return [match.group() for match in _TOKEN.finditer(text)]


def looks_like_a_token(value: str) -> bool:
    """Whether the whole value (trimmed) has a token's shape: it starts with a token's prefix (`qov_...`, a
    GitHub token's), or it is a JWT (`find_tokens`). A version-like tag such as `v1.2.3` has not."""
    text = value.strip()
    return text.startswith(TOKEN_PREFIXES) or find_tokens(text) == [text]


def token_parts(value: str) -> list[str]:
    """What in `value` may be a token, to mask, once each: the value itself and each item of a list
    (`migrate,qov_...`, split on white space and commas) that has a token's shape (`looks_like_a_token`),
    and every token inside it (`find_tokens`: `'qov_...'`, `migrate;qov_...`, `x=eyJ...`)."""
    shaped = [item.strip() for item in (value, *_ITEMS.split(value)) if looks_like_a_token(item)]
    return list(dict.fromkeys([*shaped, *find_tokens(value)]))


def holds_a_token(value: str) -> bool:
    """A token pasted into the wrong input must not be printed back: a value any part of which may be a
    token (`token_parts`) is never shown, in any message or label."""
    return bool(token_parts(value))


# Three base64url parts; an unsecured JWT's (`"alg": "none"`) third part, the signature, is empty.
_JWT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def _looks_like_jwt(token: str) -> bool:
    return not token.startswith("qov_") and _JWT.fullmatch(token) is not None
