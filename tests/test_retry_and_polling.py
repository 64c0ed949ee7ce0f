"""Retry policy and poll schedule: pure functions, and the retry loop with a fake clock."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests

from qovery_job_deploy.api.errors import TransientError
from qovery_job_deploy.api.retry import RetryPolicy, backoff_delay, call_with_retries, parse_retry_after
from qovery_job_deploy.polling import DENSE_FACTOR, Expectation, PollPlan, parse_iso_duration


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
    [
        (0, 1.0, 0.5),
        (1, 1.0, 1.0),
        (3, 1.0, 4.0),
        (10, 1.0, 10.0),
        (3, 0.5, 3.0),
        (3, 0.0, 2.0),
        (0, 0.0, 0.25),
    ],
)
def test_backoff_is_capped_equal_jitter(attempt: int, rng: float, delay: float) -> None:
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
    with pytest.raises(TransientError) as caught:
        call_with_retries(call, idempotent=True, deadline=3.0, clock=clock, rng=lambda: 1.0)
    assert clock.time < 3.0
    assert caught.value.deadline_reached  # the timeout gave up, not the policy: exit 124, not 3


def test_retries_stop_after_the_policy_attempts() -> None:
    calls, call = flaky(*[TransientError("503", acted=None)] * 10)
    with pytest.raises(TransientError) as caught:
        call_with_retries(
            call, idempotent=True, deadline=1e9, clock=FakeClock(), policy=RetryPolicy(attempts=4)
        )
    assert len(calls) == 4
    assert not caught.value.deadline_reached


@pytest.mark.parametrize(("max_attempts", "tries"), [(None, 4), (2, 2), (1, 1), (9, 4)])
def test_an_error_may_deserve_fewer_tries_than_the_policy(max_attempts: int | None, tries: int) -> None:
    """A name that does not resolve is tried twice, not for 30 s: the error says so, the policy caps it."""
    calls, call = flaky(*[TransientError("DNS", acted=False, max_attempts=max_attempts)] * 10)
    with pytest.raises(TransientError):
        call_with_retries(
            call, idempotent=True, deadline=1e9, clock=FakeClock(), policy=RetryPolicy(attempts=4)
        )
    assert len(calls) == tries


@pytest.mark.parametrize(
    ("hint", "final"), [("", "GET /x: refused"), ("Check `api-url`.", "GET /x: refused. Check `api-url`.")]
)
def test_the_fix_is_appended_once_the_retries_are_over(hint: str, final: str) -> None:
    error = TransientError("GET /x: refused", acted=False, hint=hint, retry_after=2.0)
    error.deadline_reached = True
    reported = error.with_hint()
    assert str(error) == "GET /x: refused"  # what each retry's warning shows
    assert str(reported) == final
    assert (reported.acted, reported.retry_after, reported.deadline_reached) == (False, 2.0, True)


def test_the_default_retries_span_a_blip_of_at_least_17_seconds() -> None:
    _, call = flaky(*[TransientError("503", acted=None)] * 20)
    clock = FakeClock()
    with pytest.raises(TransientError):
        call_with_retries(call, idempotent=True, deadline=1e9, clock=clock, rng=lambda: 0.0)
    assert clock.time >= 17.0


def reads(plan: PollPlan, until: float) -> list[float]:
    """The moments (seconds after the deploy request) at which the plan reads, up to `until`."""
    moments, now = [], 0.0
    while now < until:
        now += plan.next_delay(now)
        moments.append(round(now, 2))
    return moments


def test_without_history_the_first_read_waits_two_pauses_then_the_pace_is_steady() -> None:
    # A 3 s poller from the POST reads at 3, 6, 9, 12: every end after 3 s is noticed at the same moment.
    assert reads(PollPlan(3.0), 12) == [6.0, 9.0, 12.0]


@pytest.mark.parametrize(
    "expectation",
    [
        Expectation.from_durations([60, 61, 59, 60]),  # far pauses of 9 s summing to 56.299999...
        Expectation.from_durations([20, 21, 19, 20]),
        Expectation.around(20),
        Expectation.around(4),
        None,
    ],
)
def test_no_pause_is_a_mere_hair_where_the_far_pace_meets_the_window(
    expectation: Expectation | None,
) -> None:
    # As the follower does it: the clock's time (the virtual clock starts at 1000) minus the POST's.
    plan, posted, now = PollPlan(3.0, expectation), 1000.0, 1000.0
    pauses: list[float] = []
    while now - posted < 130 and len(pauses) < 500:  # bounded: pauses of 1e-14 s would never get there
        pauses.append(plan.next_delay(now - posted))
        now += pauses[-1]
    assert now - posted >= 130
    assert min(pauses) >= 3.0 / DENSE_FACTOR  # the densest pace; never two reads at once


def test_with_history_reads_are_sparse_far_from_the_end_and_dense_around_it() -> None:
    plan = PollPlan(3.0, Expectation(low=57.0, typical=60.0, high=63.0))
    moments = reads(plan, 70)
    far = [m for m in moments if m < plan.window_start]
    near = [m for m in moments if plan.window_start <= m <= 61]
    assert len(far) <= 5 and all(b - a <= 9.0 for a, b in itertools.pairwise([0.0, *far]))
    assert plan.dense < 1.5 and len(near) >= 4
    assert len([m for m in moments if m <= 61]) < 20  # fewer reads than a 3 s poller's 20 in 60 s


def test_when_history_was_wrong_the_plan_falls_back_to_the_steady_pace() -> None:
    plan = PollPlan(3.0, Expectation(low=9.0, typical=10.0, high=11.0))
    moments = reads(plan, 40)
    after = [m for m in moments if m > plan.window_end]
    assert all(round(b - a, 2) == 3.0 for a, b in itertools.pairwise(after))


@pytest.mark.parametrize(
    ("durations", "expected"),
    [
        ([60, 62, 58, 61, 59], Expectation(58.4, 60, 61.6)),
        ([], None),  # absent
        ([60, 61], None),  # too short to trust
        ([-1, 0, 1e9, 60, 61], None),  # odd values dropped: too few left
        ([5, 60, 120, 200, 30], None),  # too scattered to follow
    ],
)
def test_expectation_from_history(durations: list[float], expected: Expectation | None) -> None:
    found = Expectation.from_durations(durations)
    if expected is None:
        assert found is None
    else:
        assert found is not None
        assert (round(found.low, 1), found.typical, round(found.high, 1)) == (
            expected.low,
            expected.typical,
            expected.high,
        )


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("PT45S", 45.0), ("PT1M5S", 65.0), ("PT1H", 3600.0), ("P1DT1S", 86401.0), ("PT2.5S", 2.5),
     ("", None), (None, None), ("P", None), ("45", None), ("PT", None), ("1 minute", None)],
)  # fmt: skip
def test_iso_durations(text: str | None, seconds: float | None) -> None:
    assert parse_iso_duration(text) == seconds


@pytest.mark.parametrize(
    ("seconds", "band"),
    [(10.0, (7.5, 10.0, 13.5)), (0.0, None), (-3.0, None), (1e9, None)],
)
def test_expectation_around_a_single_past_run(
    seconds: float, band: tuple[float, float, float] | None
) -> None:
    found = Expectation.around(seconds)
    assert (None if found is None else (found.low, found.typical, found.high)) == band


def test_a_501_is_refused_at_once_not_retried() -> None:
    """ "Not Implemented" is the server's final word: no retry changes it (a simulator without an operation)."""
    from qovery_job_deploy.api.errors import RefusedError  # noqa: PLC0415
    from qovery_job_deploy.api.responses import check_response  # noqa: PLC0415

    response = requests.Response()
    response.status_code = 501
    with pytest.raises(RefusedError) as refused:
        check_response(response, what="environment x", method="DELETE")
    assert "HTTP 501" in str(refused.value) and "Check `api-url`" in str(refused.value)
