"""Qovery's rate limit (about 1000 requests an hour per token, `X-RateLimit-*` headers, 429 beyond): the
headers read from every answer, the reads paced so that what is left lasts until the reset (said once in
the log), and a 429 waited out, never a verdict by itself. In process, on the virtual clock."""

from __future__ import annotations

import itertools
import json
import sys
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from email.utils import formatdate

import pytest
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from support.contract import validate
from support.inputs import inputs
from support.sims import IN_PROCESS, TOKEN, SimFactory, job, requests_by_operation
from support.step import plain_env, run_step
from support.turns import Step, TakingTurns, step_on

from qovery_job_deploy.api.client import QoveryClient
from qovery_job_deploy.api.errors import TransientError
from qovery_job_deploy.api.ratelimit import DOCUMENTED_WINDOW, RESERVE, RateBudget, read_budget, reset_seconds
from qovery_job_deploy.api.retry import RetryPolicy, call_with_retries
from qovery_job_deploy.clock import Deadline, VirtualClock
from qovery_job_deploy.invocation import commands
from qovery_job_deploy.kinds import KINDS
from qovery_job_deploy.simulator import Fault, QoverySimulator, RateLimit
from qovery_job_deploy.simulator.__main__ import introduction
from qovery_job_deploy.simulator.__main__ import main as simulator_cli

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


def status_moments(sim: QoverySimulator) -> list[float]:
    posted = next(e.received_at for e in sim.exchanges if e.method == "POST")
    return [
        e.received_at - posted for e in sim.exchanges if e.path.endswith("/status") and e.received_at > posted
    ]


def slowed_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "Qovery's rate limit: " in line]


@pytest.mark.parametrize("history", [[], [30, 30, 30]], ids=["no history", "history"])
def test_a_low_budget_slows_the_reads_and_says_so_once_and_no_429_comes(
    simulator: SimFactory, history: list[int]
) -> None:
    """12 requests per 40 s, a 30 s deployment: at the 3 s pace it would take 14 (5 before it is followed)."""
    script = job(*LONG, past_durations=history)
    sim = simulator(script, rate_limit=RateLimit(12, 40.0))
    run = run_step(plain_env(inputs(job_id=script.job_id, api_url=sim.url)))

    assert run.code == 0, run.stderr
    assert run.json()["verdict"] == "succeeded"
    assert sim.calls("unknown") == 0 and all(e.status != 429 for e in sim.exchanges)
    assert len(sim.exchanges) <= 12
    (said,) = slowed_lines(run.stderr)
    assert "requests left until it resets in" in said and "(X-RateLimit-Remaining)" in said
    spacing = float(said.split("reads slowed to every ")[1].split("s ")[0])
    assert spacing > 3.0  # slower than the steady pace
    gaps = [b - a for a, b in itertools.pairwise(status_moments(sim))]
    assert min(gaps) >= 3.0 and max(gaps) >= spacing - 0.01  # never faster, and as slow as it said


def test_plenty_left_changes_nothing_at_all(simulator: SimFactory) -> None:
    """The headers with plenty left (Qovery's 1000 an hour): the same reads at the same moments as without
    them, and nothing said."""
    script, bare_script = job(*LONG), job(*LONG)
    sim, bare = simulator(script, rate_limit=RateLimit(1000, 3600.0)), simulator(bare_script)
    run, reference = (
        run_step(plain_env(inputs(job_id=script.job_id, api_url=sim.url))),
        run_step(plain_env(inputs(job_id=bare_script.job_id, api_url=bare.url))),
    )

    assert run.code == reference.code == 0, run.stderr
    assert status_moments(sim) == status_moments(bare)
    assert requests_by_operation(sim) == requests_by_operation(bare)
    assert not slowed_lines(run.stderr)
    assert all("X-RateLimit-Remaining" in e.response_headers for e in sim.exchanges)


@pytest.mark.parametrize("times", [1, 10])
def test_429s_on_status_reads_are_waited_and_change_no_verdict(simulator: SimFactory, times: int) -> None:
    script = job(*LONG)
    script.faults["status"] = deque(
        [None, *[Fault(status=429, headers={"Retry-After": "20"})] * times]  # the read before the POST passes
    )
    sim = simulator(script)
    run = run_step(plain_env(inputs(job_id=script.job_id, api_url=sim.url)))

    assert run.code == 0, run.stderr
    assert run.json()["verdict"] == "succeeded"
    assert run.stderr.count("rate limited by Qovery (HTTP 429); retrying in 20.0s") == times
    assert run.seconds >= 20.0 * times  # really waited, on the virtual clock


def test_a_429_without_retry_after_waits_until_the_reset(simulator: SimFactory) -> None:
    script = job(*LONG)
    script.faults["status"] = deque([None, Fault(status=429, headers={"X-RateLimit-Reset": "45"})])
    sim = simulator(script)
    run = run_step(plain_env(inputs(job_id=script.job_id, api_url=sim.url)))

    assert run.code == 0, run.stderr
    assert "retrying in 45.0s" in run.stderr
    limited_at = next(e.received_at for e in sim.exchanges if e.status == 429)
    retried_at = next(e.received_at for e in sim.exchanges if e.received_at > limited_at)
    assert retried_at - limited_at == pytest.approx(45.0)


def test_429s_on_the_deploy_request_are_retried_however_many_and_deploy_once(simulator: SimFactory) -> None:
    script = job(*LONG)
    script.faults["deploy"] = deque([Fault(status=429, headers={"Retry-After": "5"})] * 10)
    sim = simulator(script)
    run = run_step(plain_env(inputs(job_id=script.job_id, api_url=sim.url)))

    assert run.code == 0, run.stderr
    assert sim.calls("deploy") == 11 and len(sim.deployments_of(script.job_id)) == 1


def test_a_429_before_the_deploy_request_is_waited_out_past_a_minute(simulator: SimFactory) -> None:
    """Before the POST a silent network gives up within a minute; a rate limit is an answer: it is waited."""
    script = job(*LONG)
    script.faults["status"] = deque([Fault(status=429, headers={"Retry-After": "90"})])
    sim = simulator(script)
    run = run_step(plain_env(inputs(job_id=script.job_id, api_url=sim.url)))

    assert run.code == 0, run.stderr
    assert len(sim.deployments_of(script.job_id)) == 1


@pytest.mark.parametrize("operation", ["status", "deploy"])
def test_a_429_that_outlasts_the_timeout_before_the_post_times_out_having_requested_nothing(
    simulator: SimFactory, operation: str
) -> None:
    script = job(*LONG)
    script.faults[operation] = deque([Fault(status=429, headers={"Retry-After": "3600"})])
    sim = simulator(script)
    run = run_step(plain_env(inputs(job_id=script.job_id, api_url=sim.url, timeout="2m")))

    assert run.code == 124, run.stderr
    assert run.json()["verdict"] == "timed_out"
    assert "rate limit held the requests back until `timeout` ran out" in run.json()["message"]
    assert "nothing was requested" in run.json()["message"]
    assert not sim.deployments_of(script.job_id)


# -- the simulator's budget ---------------------------------------------------------------------------


def limits(limit: int, remaining: int, reset: int) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(reset),
    }


@pytest.mark.parametrize(
    ("text", "limit"),
    [("1000/1h", RateLimit(1000, 3600.0)), ("12/40s", RateLimit(12, 40.0)), ("60/m", RateLimit(60, 60.0))],
)
def test_a_rate_limit_is_given_as_requests_per_window(text: str, limit: RateLimit) -> None:
    assert RateLimit.parse(text) == limit
    assert RateLimit.parse("100/90") == RateLimit(100, 90.0)


@pytest.mark.parametrize("text", ["1000", "0/1h", "10/0s", "ten/1h", "10/1d"])
def test_a_rate_limit_that_allows_nothing_or_says_nothing_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"is no rate limit|allows nothing"):
        RateLimit.parse(text)


def test_the_simulator_states_the_budget_on_every_answer_and_refuses_beyond_it(simulator: SimFactory) -> None:
    script = job()
    sim = simulator(script, rate_limit=RateLimit(3, 10.0))
    clock = IN_PROCESS[sim.url][1]  # the clock the simulator's budget counts on
    headers = {"Authorization": f"Token {TOKEN}"}

    def get() -> tuple[int, dict[str, str]]:
        answer = sim.handle("GET", f"/job/{script.job_id}/status", {}, headers, b"")
        return answer.status, answer.headers

    answers = [get() for _ in range(4)]
    assert [status for status, _ in answers] == [200, 200, 200, 429]
    assert [h["X-RateLimit-Remaining"] for _, h in answers] == ["2", "1", "0", "0"]
    assert all(h["X-RateLimit-Limit"] == "3" and h["X-RateLimit-Reset"] == "10" for _, h in answers)
    assert answers[3][1]["Retry-After"] == "10" and "Retry-After" not in answers[2][1]
    # Another token has a budget of its own.
    other = sim.handle("GET", f"/job/{script.job_id}/status", {}, {"Authorization": "Token qov_other"}, b"")
    assert other.status == 200 and other.headers["X-RateLimit-Remaining"] == "2"
    # The window closes 10 s after its first request: a new one opens, whole.
    clock.sleep(4.0)
    assert get()[1]["X-RateLimit-Reset"] == "6"
    clock.sleep(6.0)
    assert get() == (200, {"Content-Type": "application/json"} | limits(3, 2, 10))


def test_the_simulator_cli_takes_a_rate_limit_and_says_it() -> None:
    text = introduction(QoverySimulator(rate_limit=RateLimit.parse("12/40s")), commands(), logged=True)
    assert "Rate limit: 12 requests per 40s per token" in text
    assert "Rate limit" not in introduction(QoverySimulator(), commands(), logged=True)


def test_the_simulator_cli_refuses_a_rate_limit_it_cannot_read(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["qovery_job_deploy.simulator", "--rate-limit", "lots"])
    with pytest.raises(SystemExit) as exit_:
        simulator_cli()
    assert exit_.value.code == 2
    assert "'lots' is no rate limit: give requests/window, e.g. 1000/1h or 12/40s" in capsys.readouterr().err


def test_live_log_reads_count_against_the_budget_and_yield_to_the_status_reads(simulator: SimFactory) -> None:
    """`logs: live` reads the log between status reads: under a low budget, only when the status read
    after it still fits the budget when due; no 429, and the verdict read as without the live log."""
    script = job(*LONG, log_lines=["migrated 3 tables"])
    sim = simulator(script, rate_limit=RateLimit(16, 40.0))
    run = run_step(plain_env(inputs(job_id=script.job_id, api_url=sim.url, logs="live")))

    assert run.code == 0, run.stderr
    assert all(e.status != 429 for e in sim.exchanges)
    assert sim.calls("logs") >= 1 and "migrated 3 tables" in run.stderr
    assert len(slowed_lines(run.stderr)) == 1


# -- parallel steps sharing one token ------------------------------------------------------------------

SHARED = RateLimit(40, 60.0)
MINUTE = ((0.0, "QUEUED"), (1.0, "DEPLOYING"), (2.0, "EXECUTING"), (50.0, "DEPLOYED"))


def two_steps(rate_limit: RateLimit | None) -> tuple[QoverySimulator, list[Step]]:
    """Two pipeline jobs, each deploying a job of its own environment at the same moment with one token,
    on one virtual clock, against one simulator."""
    clock = TakingTurns()
    scripts = [job(*MINUTE, environment_id=str(uuid.uuid4())) for _ in range(2)]
    sim = QoverySimulator(scripts, validator=validate, clock=clock.now, wall=clock.now, rate_limit=rate_limit)
    steps = [Step(), Step()]
    clock.run(
        *(
            step_on(sim, clock, plain_env(inputs(job_id=s.job_id, api_url=sim.url)), step)
            for s, step in zip(scripts, steps, strict=True)
        )
    )
    assert not sim.unexpected_contract_errors()
    return sim, steps


def test_parallel_steps_sharing_a_token_each_slow_down_by_themselves_and_never_run_into_the_limit() -> None:
    # At the steady pace, the two would need more than the budget within its window.
    unpaced, _ = two_steps(None)
    opened = unpaced.exchanges[0].received_at
    assert sum(1 for e in unpaced.exchanges if e.received_at < opened + SHARED.window) > SHARED.limit

    sim, steps = two_steps(SHARED)

    assert all(e.status != 429 for e in sim.exchanges), [
        e.received_at for e in sim.exchanges if e.status == 429
    ]
    for step in steps:
        assert step.outcome is not None and [o.verdict.value for o in step.outcome.services] == ["succeeded"]
        assert len(slowed_lines(step.log)) == 1, step.log  # each saw the budget fall, and slowed by itself
