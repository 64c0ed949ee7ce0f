"""Retry policy as small pure functions, and one loop that applies it within a deadline.

What is retried: see `errors.TransientError` (the client decides, per response). A GET is retried on any
transient error; a POST only when Qovery surely did not act (`acted is False`): retrying a POST that may
have created a deployment would create a second one.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from urllib3.exceptions import InvalidHeader
from urllib3.util.retry import Retry

from qovery_job_deploy.api.errors import TransientError
from qovery_job_deploy.clock import Clock

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 8  # the first try included
    base_delay: float = 0.5
    max_delay: float = 10.0


DEFAULT_POLICY = RetryPolicy()


def backoff_delay(attempt: int, policy: RetryPolicy, rng: Callable[[], float] = random.random) -> float:
    """'Equal jitter' exponential backoff: uniform in [c/2, c] with c = min(max, base * 2**attempt).

    The random half keeps pipelines that failed together from retrying in lockstep; the fixed half makes
    sure the retries really do span a Qovery blip (with the defaults, at least 17 s over 8 attempts).
    """
    ceiling = min(policy.max_delay, policy.base_delay * 2.0**attempt)
    return float(ceiling / 2 + ceiling / 2 * rng())


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a `Retry-After` header (seconds or HTTP-date form); None if absent or invalid."""
    if not value:
        return None
    try:
        return max(0.0, float(Retry().parse_retry_after(value)))
    except (InvalidHeader, ValueError, OverflowError):
        return None


def retry_delay(error: TransientError, attempt: int, policy: RetryPolicy, rng: Callable[[], float]) -> float:
    """The server's `Retry-After` when it gave one, our backoff otherwise."""
    if error.retry_after is not None:
        return error.retry_after
    return backoff_delay(attempt, policy, rng)


def may_retry(error: TransientError, *, idempotent: bool) -> bool:
    return idempotent or error.acted is False


def call_with_retries(
    call: Callable[[], T],
    *,
    idempotent: bool,
    deadline: float,
    clock: Clock,
    policy: RetryPolicy = DEFAULT_POLICY,
    on_retry: Callable[[TransientError, float], None] = lambda error, delay: None,
    rng: Callable[[], float] = random.random,
    patient_until: float | None = None,
) -> T:
    """Run `call`, retrying transient failures per the policy; never sleep past `deadline`.

    A 429 (`rate_limited`) is not a failure: Qovery did not act and said when to come back. It is waited
    out however often it comes, its waits not counted against the policy's attempts, until `patient_until`
    (the step's own deadline when `deadline` is an earlier, quicker one; by default `deadline`).
    """
    attempt = 0
    while True:
        try:
            return call()
        except TransientError as error:
            attempt += 1
            until = deadline
            if error.rate_limited:
                until = deadline if patient_until is None else patient_until
                delay = rate_limit_delay(error, attempt - 1, policy, rng)
            else:
                attempts = min(policy.attempts, error.max_attempts or policy.attempts)
                if attempt >= attempts or not may_retry(error, idempotent=idempotent):
                    raise
                delay = retry_delay(error, attempt - 1, policy, rng)
            if clock.now() + delay >= until:
                error.deadline_reached = True
                raise
            on_retry(error, delay)
            clock.sleep(delay)


def rate_limit_delay(
    error: TransientError, attempt: int, policy: RetryPolicy, rng: Callable[[], float]
) -> float:
    """The wait a 429 asks for; our backoff when it asks for none (or for none at all: `Retry-After: 0`
    repeated would otherwise be asked again at once, for ever)."""
    if error.retry_after:
        return error.retry_after
    return backoff_delay(attempt, policy, rng)
