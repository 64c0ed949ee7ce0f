"""What each input is called (`job_id`: `--job-id`, the GitHub input `job-id`, `QOVERY_JOB_ID`), and one
given value with where it came from (`Given`), described for messages without ever printing a token back.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass

from qovery_job_deploy.text import one_line


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
    """A token pasted into the wrong input must not be printed back either: a value with a real token's
    shape (`qov_...`, or a JWT: three base64url parts, the first a JSON header). A version-like tag such as
    `v1.2.3` is shown, as every other value is."""
    text = value.strip()
    return text.startswith("qov_") or (_looks_like_jwt(text) and _json_header(text.split(".")[0]))


def _json_header(part: str) -> bool:
    try:
        decoded = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        return isinstance(json.loads(decoded), dict)
    except (ValueError, binascii.Error):  # not base64, not UTF-8, not JSON
        return False


_JWT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")  # three base64url parts


def _looks_like_jwt(token: str) -> bool:
    return not token.startswith("qov_") and _JWT.fullmatch(token) is not None
