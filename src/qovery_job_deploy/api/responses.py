"""Reading the API's answers: an HTTP status sorted into success, retryable or refused (with the message
that says what to fix), and JSON text made safe to write anywhere."""

from __future__ import annotations

from typing import Any

import requests

from qovery_job_deploy.api.errors import RefusedError, TransientError
from qovery_job_deploy.api.ratelimit import reset_seconds
from qovery_job_deploy.api.retry import parse_retry_after
from qovery_job_deploy.text import one_line


def clean_text(data: Any) -> Any:
    """Parsed JSON with every string made encodable: a lone surrogate (`"\\ud800"` in the JSON) would
    crash any later write of it to a file or a stream."""
    if isinstance(data, str):
        return data.encode("utf-8", "replace").decode("utf-8")
    if isinstance(data, list):
        return [clean_text(item) for item in data]
    if isinstance(data, dict):
        return {clean_text(key): clean_text(value) for key, value in data.items()}
    return data


def check_response(
    response: requests.Response, *, what: str, method: str, reset_in: float | None = None
) -> None:
    """Raise the right error for a non-2xx answer; return quietly for 2xx. `reset_in`: when the rate limit
    last seen resets, for a 429 that says neither `Retry-After` nor `X-RateLimit-Reset`."""
    code = response.status_code
    if 200 <= code < 300:
        return
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if code == 429:
        # Qovery did not act. Come back when it says, else when its limit resets.
        if retry_after is None:
            retry_after = reset_seconds(response.headers)
        raise TransientError(
            "rate limited by Qovery (HTTP 429)",
            acted=False,
            retry_after=reset_in if retry_after is None else retry_after,
            rate_limited=True,
        )
    if code == 409:
        # "Operation is in progress": the request was refused, nothing was queued, so it is safe to retry.
        raise TransientError(
            f"Qovery says an operation is already in progress on {what} (HTTP 409)",
            acted=False,
            retry_after=retry_after,
        )
    if code == 501:  # "Not Implemented": no retry changes that answer
        raise RefusedError(
            f"Qovery does not implement {method} for {what} (HTTP 501). Check `api-url`: it must be Qovery's "
            "API (or a simulator that serves this operation).",
            code,
        )
    if code >= 500:
        # A gateway's 502/504 means the request may have reached Qovery and still be in its hands; a 500 or
        # 503 is an answer: whatever was done is done.
        raise TransientError(
            f"Qovery answered HTTP {code} to {method}",
            acted=None,
            retry_after=retry_after,
            still_working=code in (502, 504),
        )
    raise RefusedError(refusal_message(code, what, response.text), code)


def refusal_message(code: int, what: str, body: str) -> str:
    detail = f" Qovery said: {one_line(body, 200)}" if body.strip() else ""
    if code == 401:
        return (
            "Qovery rejected the API token (HTTP 401). Check that it is a valid, unexpired token "
            "(Organization settings > API tokens in the Qovery console) and that `auth-scheme` fits it "
            "(a qov_ API token uses Token, a JWT uses Bearer)." + detail
        )
    if code == 403:
        return (
            f"The API token is not allowed to act on {what} (HTTP 403). Give the token a role with deploy "
            "rights on its project and environment." + detail
        )
    if code == 404:
        return (
            f"Qovery does not know {what} (HTTP 404). Check the id or name given for it, and that the API "
            "token belongs to its organization." + detail
        )
    if code == 400:
        return (
            f"Qovery rejected the request for {what} as invalid (HTTP 400). Check `image-tag`, "
            "`git-commit-id`, `chart-version` and `force-event` against the service's source." + detail
        )
    if 300 <= code < 400:
        return f"Qovery answered with a redirect (HTTP {code}). Check `api-url`." + detail
    return f"Qovery refused the request for {what} (HTTP {code})." + detail
