"""The fault matrix: one row per fault, mirrored one to one by the table of docs/faults.md.

Each row scripts the simulator, runs the entrypoint as `docker run` would, and checks the exit code, the
verdict, how many deployments Qovery saw, and what the log says.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from support.inputs import job_inputs
from support.sims import SimFactory, job
from support.step import ROOT, github_env, plain_env, run_in_process, run_step

from qovery_job_deploy.simulator import Fault, QoverySimulator

HTML_PAGE = "<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>"
PASS = None  # a call that goes through untouched
PROCESS_START_SLACK = 6.0


Planned = Fault | None


@dataclass
class Row:
    fault: str
    faults: dict[str, list[Planned]] = field(default_factory=dict)
    script: dict[str, object] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    code: int = 0
    verdict: str = "succeeded"
    deployments: int = 1
    log: str = ""
    deviation: str = ""  # a deliberate break of the published contract (a newer API)
    max_seconds: float | None = None
    waited: float = 0.0  # some pause between two status reads lasted at least this long
    check: Callable[[QoverySimulator], None] | None = None
    # Where the row runs: "sim", the simulator in-process on a virtual clock; "wire", a served simulator
    # and a subprocess (faults only a socket can play); "network", in-process against a real closed port or
    # unresolvable name, its retries paced on a virtual clock.
    via: str = "sim"


ROWS = [
    Row("429 with Retry-After in seconds", {"status": [PASS, Fault(status=429, headers={"Retry-After": "2"})]},
        log="retrying in 2.0s", waited=1.9),
    Row("429 with Retry-After as an HTTP date",
        {"status": [PASS, Fault(status=429, retry_after_date_in=3)]},
        log="HTTP 429", waited=1.5),
    Row("a burst of 500, 502, 503, 504", {"status": [PASS, *(Fault(status=code) for code in (500, 502, 503, 504))]},
        log="HTTP 504"),
    Row("connection reset on a status read", {"status": [PASS, Fault(kind="reset")]},
        log="connection broke"),
    Row("an answer cut short of its Content-Length", {"status": [PASS, Fault(kind="short")]},
        log="ChunkedEncodingError", via="wire"),
    Row("connection refused (the API is down)", env={"api-url": "http://127.0.0.1:9", "timeout": "60s"},
        code=3, verdict="error", deployments=0, log="127.0.0.1:9 refused the connection. Check `api-url`",
        via="network"),
    Row("a host name that does not resolve (DNS)", env={"api-url": "https://qovery-job-deploy.invalid"},
        code=3, verdict="error", deployments=0,
        log="the host name qovery-job-deploy.invalid does not resolve (DNS). Check `api-url`",
        check=lambda sim: assert_called(sim, "status", 0), via="network"),
    Row("a response that never comes", {"status": [PASS, Fault(kind="delay", seconds=5)]},
        env={"request-timeout": "1s"}, log="no response in time"),
    Row("a truncated JSON body", {"status": [PASS, Fault(kind="truncated")]}, log="unreadable response",
        deviation="Failed to deserialize"),
    Row("a proxy's HTML error page", {"status": [PASS, Fault(status=502, body=HTML_PAGE)]}, log="HTTP 502"),
    Row("an HTML page with status 200", {"status": [PASS, Fault(status=200, body=HTML_PAGE)]},
        log="unreadable response", deviation="200 to GET"),
    Row("extra fields and unknown enum values",
        script={"extra_status_fields": {"brand_new_field": {"x": 1}, "service_deployment_status": "PARTLY_UP_TO_DATE"}},
        deviation="PARTLY_UP_TO_DATE"),
    Row("a missing optional field", script={"omitted_fields": ("execution_id", "steps")}),
    Row("a null deployment_request_id in the deploy answer", script={"deploy_answer_without_id": True},
        log="did not name a new deployment request"),
    Row("the previous request's status right after the POST", script={"stale_seconds": 0.8}),
    Row("a newer request taking over the job's status", script={"taken_over": True},
        check=lambda sim: assert_called(sim, "request_status")),
    Row("a newer request taking over, ours not found by id at first", {"request_status": [Fault(status=404)]},
        script={"taken_over": True}, deviation="404 to GET /environment/deploymentStatus"),
    Row("a state this version does not know",
        script={"timeline": [(0.0, "QUEUED"), (0.2, "HIBERNATING"), (0.8, "DEPLOYED")]},
        log="does not know (HIBERNATING)", deviation="'HIBERNATING' is not one of"),
    Row("deployment history unavailable", {"history": [Fault(status=500)]}, script={"past_durations": [40]},
        log="history unavailable"),
    Row("deployment history that makes no sense", script={"past_durations": [-5, 0, 10**9]},
        log="No usable deployment history"),
    Row("deployment history that is wrong", script={"past_durations": [30, 31, 32]},
        log="Past deployments took 30-32s", check=lambda sim: assert_reads_at_most_apart(sim, 3 * 0.2 + 0.3)),
    Row("deploy: 409, an operation in progress", {"deploy": [Fault(status=409)]}, log="HTTP 409"),
    Row("deploy: 429", {"deploy": [Fault(status=429, headers={"Retry-After": "0"})]}, log="HTTP 429"),
    Row("deploy: 5xx after Qovery acted", {"deploy": [Fault(status=503, acted=True)]},
        log="adopting deployment request"),
    Row("deploy: connection reset after Qovery acted", {"deploy": [Fault(kind="reset", acted=True)]},
        log="adopting deployment request"),
    Row("deploy: timeout after Qovery acted", {"deploy": [Fault(kind="delay", seconds=4)]},
        env={"request-timeout": "1s"}, log="adopting deployment request"),
    Row("deploy: an answer cut short after Qovery acted", {"deploy": [Fault(kind="short")]},
        log="adopting deployment request", via="wire"),
    Row("deploy: an unreadable 2xx answer", {"deploy": [Fault(status=202, body="<html>accepted</html>", acted=True)]},
        log="its answer was unreadable", deviation="202 to POST"),
    Row("deploy: accepted, but no request ever appears", script={"accepts_without_deploying": True},
        code=3, verdict="error", deployments=0, log="no deployment request appeared"),
    Row("deploy: a request that shows only in the deployment queue", {"deploy": [Fault(status=504, acted=True)]},
        script={"stale_seconds": 12.0, "stale_hides_count": True,
                "timeline": [(0.0, "QUEUED"), (12.5, "EXECUTING"), (13.0, "DEPLOYED")]},
        log="queued for the job", check=lambda sim: assert_called(sim, "queue")),
    Row("deploy: 5xx before Qovery acted", {"deploy": [Fault(status=503)]},
        log="sending it again (attempt 2 of 4)"),
    Row("deploy: reset before Qovery acted", {"deploy": [Fault(kind="reset")]},
        log="sending it again (attempt 2 of 4)"),
    Row("deploy: timeout before Qovery acted", {"deploy": [Fault(kind="hang", seconds=2)]},
        env={"request-timeout": "1s"}, log="for up to 30s", check=lambda sim: assert_called(sim, "deploy", times=2)),
    Row("deploy: ambiguous failures on every attempt", {"deploy": [Fault(status=503)] * 4},
        code=3, verdict="error", deployments=0, log="failed 4 times"),
    Row("401 on the first read", {"status": [Fault(status=401)]},
        code=3, verdict="error", deployments=0, log="HTTP 401"),
    Row("403 on the deploy request", {"deploy": [Fault(status=403)]},
        code=3, verdict="error", deployments=0, log="HTTP 403"),
    Row("401 in the middle of the wait (token revoked)", {"status": [PASS, PASS, Fault(status=401)]},
        code=3, verdict="error", log="HTTP 401"),
    Row("status reads failing until the retries run out",
        {"status": [PASS, *[Fault(status=503, headers={"Retry-After": "0"})] * 8]},
        env={"timeout": "60s"}, code=3, verdict="error", log="HTTP 503",
        check=lambda sim: assert_called(sim, "status", times=1 + 8)),
    Row("a Retry-After longer than the timeout",
        {"status": [PASS, Fault(status=429, headers={"Retry-After": "3600"})]},
        script={"timeline": [(0.0, "QUEUED"), (30.0, "DEPLOYED")]},
        env={"timeout": "3s"}, code=124, verdict="timed_out", max_seconds=4.0),
    Row("an answer trickled byte by byte past the timeout",
        {"status": [PASS, Fault(kind="trickle", seconds=0.5)]},
        script={"timeline": [(0.0, "QUEUED"), (30.0, "DEPLOYED")]},
        env={"timeout": "3s"}, code=124, verdict="timed_out", max_seconds=4.0, via="wire"),
    Row("a history that never comes, past the timeout", {"history": [Fault(kind="delay", seconds=30)]},
        script={"timeline": [(0.0, "QUEUED"), (30.0, "DEPLOYED")], "past_durations": [40]},
        env={"timeout": "2s"}, code=124, verdict="timed_out", max_seconds=3.0),
    Row("a response that never comes, past the timeout",
        {"status": [PASS, Fault(kind="delay", seconds=30)]},
        script={"timeline": [(0.0, "QUEUED"), (30.0, "DEPLOYED")]},
        env={"timeout": "3s"}, code=124, verdict="timed_out", max_seconds=4.0),
]  # fmt: skip


@pytest.mark.parametrize(
    "row",
    [
        pytest.param(row, id=row.fault, marks=[pytest.mark.process] if row.via == "wire" else [])
        for row in ROWS
    ],
)
def test_fault(request: pytest.FixtureRequest, row: Row) -> None:
    script = job(**row.script)
    script.faults = {operation: deque(faults) for operation, faults in row.faults.items()}
    make: SimFactory = request.getfixturevalue("served_simulator" if row.via == "wire" else "simulator")
    sim = make(script)
    if row.deviation:
        sim.allowed_deviations = (row.deviation,)
    env = job_inputs(sim, script)
    step = run_in_process if row.via == "network" else run_step
    run = step(plain_env(env | row.env))

    assert run.code == row.code, run.stderr
    assert run.json()["verdict"] == row.verdict
    assert len(sim.deployments_of(script.job_id)) == row.deployments
    assert sim.calls("deploy") <= 1 + len(row.faults.get("deploy", []))  # posted again only after a fault
    assert not script.faults.get("deploy")  # every planned POST fault was played
    assert row.log in run.stderr
    if row.verdict == "succeeded":
        assert run.json()["deployment_request_id"] == sim.deployments_of(script.job_id)[0].id
    if row.max_seconds is not None:  # `timeout` honoured to within a second, whatever the fault
        # Over the wire, in real time, the interpreter's start counts too: a loaded machine gets slack,
        # and the step's own clock is held to the bound. (Without the wall-clock limit a trickled answer
        # would take minutes.)
        assert run.json()["duration_seconds"] <= row.max_seconds
        assert run.seconds < row.max_seconds + (PROCESS_START_SLACK if row.via == "wire" else 0.0)
    if row.deviation:
        assert any(row.deviation in error for error in sim.contract_errors)  # the deviation was really served
    if row.waited:
        assert max(status_read_gaps(sim)) >= row.waited
    if row.check is not None:
        row.check(sim)


def status_read_gaps(sim: QoverySimulator) -> list[float]:
    reads = [e.received_at for e in sim.exchanges if e.path.endswith("/status")]
    return [later - earlier for earlier, later in itertools.pairwise(reads)] or [0.0]


def assert_called(sim: QoverySimulator, operation: str, times: int | None = None) -> None:
    calls = sim.calls(operation)
    assert calls >= 1 if times is None else calls == times, f"{operation} called {calls} times"


def assert_reads_at_most_apart(sim: QoverySimulator, seconds: float) -> None:
    assert max(status_read_gaps(sim)) <= seconds


def test_every_row_is_in_the_documented_fault_table() -> None:
    page = (ROOT / "docs" / "faults.md").read_text(encoding="utf-8")
    table = page.split("## Fault matrix", 1)[1].split("\n## ", 1)[0]
    rows = [
        line.split("|")[1].strip()
        for line in table.splitlines()
        if line.startswith("| ") and "---" not in line
    ]
    assert rows[1:] == [row.fault for row in ROWS]


@pytest.mark.parametrize(
    ("row_fault", "asked", "headline"),
    [
        (
            "deploy: accepted, but no request ever appears",
            "| Requested |",
            "Qovery job deployment could not be followed",
        ),
        (
            "deploy: ambiguous failures on every attempt",
            "| Requested, not confirmed |",
            "Qovery job deployment could not be followed",
        ),
        ("403 on the deploy request", "| Not deployed |", "Qovery job: nothing was deployed"),
        ("401 on the first read", "| Not deployed |", "Qovery job: nothing was deployed"),
    ],
)
def test_the_summary_says_whether_qovery_took_the_request(
    simulator: SimFactory, tmp_path: Path, row_fault: str, asked: str, headline: str
) -> None:
    """What the step summary heads the values asked with, and its headline, agree with what Qovery did: took
    the request (though no deployment followed), may have taken it (every answer ambiguous, no trace), or
    surely did not (refused before or at the POST)."""
    (row,) = [row for row in ROWS if row.fault == row_fault]
    script = job(**row.script)
    script.faults = {operation: deque(faults) for operation, faults in row.faults.items()}
    sim = simulator(script)
    env, files = github_env(tmp_path, job_inputs(sim, script))
    run = run_step(env, files=files)

    assert run.code == row.code, run.stderr
    summary = run.summary()
    assert summary.splitlines()[0].endswith(f" {headline}"), summary
    assert any(line.startswith(asked) for line in summary.splitlines()), summary
