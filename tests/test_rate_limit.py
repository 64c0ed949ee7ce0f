"""Qovery's rate limit (about 1000 requests an hour per token, `X-RateLimit-*` headers, 429 beyond): the
headers read from every answer, the reads paced so that what is left lasts until the reset (said once in
the log), and a 429 waited out, never a verdict by itself. In process, on the virtual clock."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Mapping
from email.utils import formatdate

import pytest
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from support.sims import TOKEN, SimFactory, job
from support.step import plain_env, run_step

from qovery_job_deploy.api.client import QoveryClient
from qovery_job_deploy.api.errors import TransientError
from qovery_job_deploy.api.ratelimit import DOCUMENTED_WINDOW, RESERVE, RateBudget, read_budget, reset_seconds
from qovery_job_deploy.api.retry import RetryPolicy, call_with_retries
from qovery_job_deploy.clock import Deadline, VirtualClock
from qovery_job_deploy.kinds import KINDS
from qovery_job_deploy.simulator import Fault, JobScript, QoverySimulator

NOW = 1_750_000_000.0  # a Unix time, for the resets given as moments
DATE = formatdate(NOW, usegmt=True)


# -- the headers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"X-RateLimit-Reset": "34"}, 34.0),  # seconds until the reset (the simulator's form)
        ({"X-RateLimit-Reset": "12.5"}, 12.5),
        ({"X-RateLimit-Reset": str(int(NOW) + 60), "Date": DATE}, 60.0),  # a Unix time, the server's Date
        ({"X-RateLimit-Reset": str(int(NOW) + 60)}, 60.0),  # no Date: this machine's clock
        ({"X-RateLimit-Reset": str(int(NOW * 1000) + 90_000), "Date": DATE}, 90.0),  # in milliseconds
        ({"X-RateLimit-Reset": formatdate(NOW + 45, usegmt=True), "Date": DATE}, 45.0),  # an HTTP date
        ({"X-RateLimit-Reset": str(int(NOW) - 5), "Date": DATE}, 0.0),  # already past: now
        ({"X-RateLimit-Reset": str(int(NOW) + 3 * 86400), "Date": DATE}, None),  # days away: implausible
        ({"X-RateLimit-Reset": "soon"}, None),
        ({"X-RateLimit-Reset": "nan"}, None),
        ({}, None),
    ],
)
def test_the_reset_is_read_in_any_of_its_forms(headers: dict[str, str], seconds: float | None) -> None:
    assert reset_seconds(CaseInsensitiveDict(headers), wall=lambda: NOW) == seconds


def test_a_budget_is_read_only_from_an_answer_that_says_what_is_left() -> None:
    stated = {"X-RateLimit-Limit": "1000", "X-RateLimit-Remaining": "120", "X-RateLimit-Reset": "600"}
    assert read_budget(CaseInsensitiveDict(stated), 50.0) == RateBudget(120, 650.0, 50.0, 1000)
    assert read_budget(CaseInsensitiveDict({"X-RateLimit-Reset": "600"}), 50.0) is None
    assert read_budget(CaseInsensitiveDict({"X-RateLimit-Remaining": "-3"}), 50.0) is None
    # No reset said: a whole window away, the documented hour (the slowest it could be).
    assert read_budget(CaseInsensitiveDict({"X-RateLimit-Remaining": "7"}), 0.0) == RateBudget(
        7, DOCUMENTED_WINDOW, 0.0
    )


@pytest.mark.parametrize(
    ("remaining", "limit", "spacing"),
    [
        (900, 1000, 0.0),  # plenty left: the step's own pace
        (501, 1000, 0.0),
        (500, 1000, 100 / (500 - RESERVE)),  # half gone: what is left, but the reserve, spread to the reset
        (6, 12, 100 / 4),
        (600, None, 0.0),  # no limit said: the documented 1000
        (400, None, 100 / 398),
        (RESERVE, 12, 100.0),  # only the reserve left: the next read waits for the reset
        (0, 12, 100.0),
    ],
)
def test_the_spacing_makes_what_is_left_last_until_the_reset(
    remaining: int, limit: int | None, spacing: float
) -> None:
    budget = RateBudget(remaining, resets_at=1100.0, seen_at=1000.0, limit=limit)
    assert budget.spacing() == pytest.approx(spacing)
    assert budget.next_at() == pytest.approx(1000.0 + spacing)


# -- a 429 is waited out --------------------------------------------------------------------------------


class Recording(VirtualClock):
    def __init__(self) -> None:
        super().__init__(0.0)
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        super().sleep(seconds)


def limited(seconds: float) -> TransientError:
    return TransientError("429", acted=False, retry_after=seconds, rate_limited=True)


def answering(*errors: TransientError) -> Callable[[], str]:
    """A call that raises `errors` in turn, then answers "ok"."""
    left = list(errors)

    def call() -> str:
        if left:
            raise left.pop(0)
        return "ok"

    return call


def test_429s_are_waited_out_however_many_and_never_count_as_failed_attempts() -> None:
    clock = Recording()
    call = answering(*[limited(30.0)] * 12)
    result = call_with_retries(call, idempotent=False, deadline=1000.0, clock=clock, policy=RetryPolicy())
    assert result == "ok"  # 12 of them: more than the policy's 8 attempts, on a POST too
    assert clock.sleeps == [30.0] * 12  # each waited as asked


def test_a_429_that_asks_for_no_wait_backs_off_rather_than_asking_again_at_once() -> None:
    clock = Recording()
    call_with_retries(answering(limited(0.0)), idempotent=True, deadline=1000.0, clock=clock, rng=lambda: 1.0)
    assert clock.sleeps == [0.5]


def test_a_429_is_waited_out_past_the_quick_limit_until_the_step_s_own_deadline() -> None:
    """Before the POST a failing network gives up within a minute; a 429 is an answer, and waits longer."""
    clock = Recording()
    call = answering(limited(90.0))
    assert call_with_retries(call, idempotent=True, deadline=60.0, clock=clock, patient_until=600.0) == "ok"
    assert clock.sleeps == [90.0]
    with pytest.raises(TransientError) as caught:
        call = answering(limited(900.0))
        call_with_retries(call, idempotent=True, deadline=60.0, clock=clock, patient_until=600.0)
    assert caught.value.deadline_reached  # only the step's `timeout` ends the wait


class Scripted(BaseAdapter):
    """Answers in turn: (status, headers), each with a job status body."""

    def __init__(self, answers: list[tuple[int, dict[str, str]]], clock: VirtualClock) -> None:
        super().__init__()
        self.answers = deque(answers)
        self.clock = clock
        self.sent_at: list[float] = []

    def send(self, request: requests.PreparedRequest, *args: object, **kwargs: object) -> requests.Response:
        self.sent_at.append(self.clock.now())
        status, headers = self.answers.popleft()
        body = json.dumps(
            {
                "id": "job",
                "state": "DEPLOYED",
                "service_deployment_status": "UP_TO_DATE",
                "status_details": {"action": "DEPLOY", "status": "SUCCESS", "sub_action": "NONE"},
                "is_part_last_deployment": True,
                "deployment_requests_count": 1,
                "deployment_request_id": None,
            }
        ).encode()
        response = requests.Response()
        response.status_code = status
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json", **headers})
        response._content = body
        response.request = request
        return response

    def close(self) -> None:
        return


def client_on(adapter: Scripted, clock: VirtualClock) -> QoveryClient:
    deadline = Deadline(clock.now() + 1800.0, clock)
    return QoveryClient(
        "https://api.qovery.test",
        f"Token {TOKEN}",
        clock=clock,
        deadline=deadline,
        environ={},
        transport=adapter,
    )


@pytest.mark.parametrize(
    ("limited", "waited"),
    [
        ({"Retry-After": "20", "X-RateLimit-Reset": "50"}, 20.0),  # as it asks
        ({"X-RateLimit-Reset": "50", "X-RateLimit-Remaining": "0"}, 50.0),  # no Retry-After: its reset
        ({}, 30.0 - 5.0),  # neither: the reset the last answer said (30 s after it, 5 s ago)
    ],
)
def test_a_429_waits_for_retry_after_else_for_the_reset(limited: Mapping[str, str], waited: float) -> None:
    clock = VirtualClock(0.0)
    stated = {"X-RateLimit-Limit": "12", "X-RateLimit-Remaining": "3", "X-RateLimit-Reset": "30"}
    adapter = Scripted([(200, stated), (429, dict(limited)), (200, {})], clock)
    client = client_on(adapter, clock)

    client.status(KINDS["job"], "job")
    assert client.rate_budget() == RateBudget(3, 30.0, 0.0, 12)
    clock.sleep(5.0)
    client.status(KINDS["job"], "job")
    assert adapter.sent_at == [0.0, 5.0, 5.0 + waited]


def test_an_answer_without_the_headers_keeps_the_budget_last_said() -> None:
    clock = VirtualClock(0.0)
    stated = {"X-RateLimit-Remaining": "3", "X-RateLimit-Reset": "30"}
    adapter = Scripted([(200, {}), (200, stated), (200, {})], clock)
    client = client_on(adapter, clock)

    client.status(KINDS["job"], "job")
    assert client.rate_budget() is None  # none said yet: nothing paced
    client.status(KINDS["job"], "job")
    client.status(KINDS["job"], "job")
    assert client.rate_budget() == RateBudget(3, 30.0, 0.0, None)


# -- in the step ------------------------------------------------------------------------------------------

LONG = ((0.0, "QUEUED"), (1.0, "DEPLOYING"), (2.0, "EXECUTING"), (30.0, "DEPLOYED"))


def inputs(sim: QoverySimulator, script: JobScript, **extra: str) -> dict[str, str]:
    return {"api-token": TOKEN, "job-id": script.job_id, "api-url": sim.url} | extra


def status_moments(sim: QoverySimulator) -> list[float]:
    posted = next(e.received_at for e in sim.exchanges if e.method == "POST")
    return [
        e.received_at - posted for e in sim.exchanges if e.path.endswith("/status") and e.received_at > posted
    ]


def slowed_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "Qovery's rate limit: " in line]


@pytest.mark.parametrize("times", [1, 10])
def test_429s_on_status_reads_are_waited_and_change_no_verdict(simulator: SimFactory, times: int) -> None:
    script = job(*LONG)
    script.faults["status"] = deque(
        [None, *[Fault(status=429, headers={"Retry-After": "20"})] * times]  # the read before the POST passes
    )
    sim = simulator(script)
    run = run_step(plain_env(inputs(sim, script)))

    assert run.code == 0, run.stderr
    assert run.json()["verdict"] == "succeeded"
    assert run.stderr.count("rate limited by Qovery (HTTP 429); retrying in 20.0s") == times
    assert run.seconds >= 20.0 * times  # really waited, on the virtual clock


def test_a_429_without_retry_after_waits_until_the_reset(simulator: SimFactory) -> None:
    script = job(*LONG)
    script.faults["status"] = deque([None, Fault(status=429, headers={"X-RateLimit-Reset": "45"})])
    sim = simulator(script)
    run = run_step(plain_env(inputs(sim, script)))

    assert run.code == 0, run.stderr
    assert "retrying in 45.0s" in run.stderr
    limited_at = next(e.received_at for e in sim.exchanges if e.status == 429)
    retried_at = next(e.received_at for e in sim.exchanges if e.received_at > limited_at)
    assert retried_at - limited_at == pytest.approx(45.0)


def test_429s_on_the_deploy_request_are_retried_however_many_and_deploy_once(simulator: SimFactory) -> None:
    script = job(*LONG)
    script.faults["deploy"] = deque([Fault(status=429, headers={"Retry-After": "5"})] * 10)
    sim = simulator(script)
    run = run_step(plain_env(inputs(sim, script)))

    assert run.code == 0, run.stderr
    assert sim.calls("deploy") == 11 and len(sim.deployments_of(script.job_id)) == 1


def test_a_429_before_the_deploy_request_is_waited_out_past_a_minute(simulator: SimFactory) -> None:
    """Before the POST a silent network gives up within a minute; a rate limit is an answer: it is waited."""
    script = job(*LONG)
    script.faults["status"] = deque([Fault(status=429, headers={"Retry-After": "90"})])
    sim = simulator(script)
    run = run_step(plain_env(inputs(sim, script)))

    assert run.code == 0, run.stderr
    assert len(sim.deployments_of(script.job_id)) == 1


@pytest.mark.parametrize("operation", ["status", "deploy"])
def test_a_429_that_outlasts_the_timeout_before_the_post_times_out_having_requested_nothing(
    simulator: SimFactory, operation: str
) -> None:
    script = job(*LONG)
    script.faults[operation] = deque([Fault(status=429, headers={"Retry-After": "3600"})])
    sim = simulator(script)
    run = run_step(plain_env(inputs(sim, script, timeout="2m")))

    assert run.code == 124, run.stderr
    assert run.json()["verdict"] == "timed_out"
    assert "rate limit held the requests back until `timeout` ran out" in run.json()["message"]
    assert "nothing was requested" in run.json()["message"]
    assert not sim.deployments_of(script.job_id)
