"""Retry policy and poll schedule: pure functions, and the retry loop with a fake clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from qovery_job_deploy.errors import TransientError
from qovery_job_deploy.polling import poll_delays
from qovery_job_deploy.retry import RetryPolicy, backoff_delay, call_with_retries, parse_retry_after


class FakeClock:
    def __init__(self) -> None:
        self.time = 0.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.time

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.time += seconds


@pytest.mark.parametrize(
    ("attempt", "rng", "delay"),
    [(0, 1.0, 0.5), (1, 1.0, 1.0), (3, 1.0, 4.0), (10, 1.0, 10.0), (3, 0.5, 2.0), (3, 0.0, 0.0)],
)
def test_backoff_is_capped_full_jitter(attempt: int, rng: float, delay: float) -> None:
    assert backoff_delay(attempt, RetryPolicy(), lambda: rng) == delay


def test_retry_after_in_both_forms() -> None:
    assert parse_retry_after("7") == 7.0
    in_ten = format_datetime(datetime.now(UTC) + timedelta(seconds=10), usegmt=True)
    assert 8.0 <= (parse_retry_after(in_ten) or 0) <= 10.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None


def flaky(*errors: TransientError) -> tuple[list[int], Callable[[], str]]:
    calls: list[int] = []
    queue = list(errors)

    def call() -> str:
        calls.append(1)
        if queue:
            raise queue.pop(0)
        return "ok"

    return calls, call


@pytest.mark.parametrize(
    ("error", "idempotent", "retried"),
    [
        (TransientError("reset", acted=None), True, True),  # a GET: always safe
        (TransientError("reset", acted=None), False, False),  # a POST that may have acted: never
        (TransientError("refused", acted=False), False, True),  # a POST Qovery surely did not see
        (TransientError("429", acted=False, retry_after=3), False, True),
    ],
)
def test_what_is_retried(error: TransientError, idempotent: bool, retried: bool) -> None:
    calls, call = flaky(error)
    clock = FakeClock()
    if retried:
        assert (
            call_with_retries(call, idempotent=idempotent, deadline=100, clock=clock, rng=lambda: 1.0) == "ok"
        )
        assert len(calls) == 2
    else:
        with pytest.raises(TransientError):
            call_with_retries(call, idempotent=idempotent, deadline=100, clock=clock)
        assert len(calls) == 1


def test_retry_after_is_honoured() -> None:
    _, call = flaky(TransientError("429", acted=False, retry_after=7))
    clock = FakeClock()
    call_with_retries(call, idempotent=True, deadline=100, clock=clock)
    assert clock.sleeps == [7]


def test_retries_never_sleep_past_the_deadline() -> None:
    _, call = flaky(*[TransientError("503", acted=None)] * 10)
    clock = FakeClock()
    with pytest.raises(TransientError):
        call_with_retries(call, idempotent=True, deadline=3.0, clock=clock, rng=lambda: 1.0)
    assert clock.time < 3.0


def test_retries_stop_after_the_policy_attempts() -> None:
    calls, call = flaky(*[TransientError("503", acted=None)] * 10)
    with pytest.raises(TransientError):
        call_with_retries(
            call, idempotent=True, deadline=1e9, clock=FakeClock(), policy=RetryPolicy(attempts=4)
        )
    assert len(calls) == 4


@pytest.mark.parametrize(
    ("longest", "first"),
    [(3.0, [1.0, 2.0, 3.0, 3.0, 3.0]), (0.2, [0.2, 0.2, 0.2]), (10.0, [1.0, 2.0, 10.0, 10.0])],
)
def test_poll_schedule_ramps_up_then_holds_the_longest_pause(longest: float, first: list[float]) -> None:
    delays = poll_delays(longest)
    assert [next(delays) for _ in first] == first
