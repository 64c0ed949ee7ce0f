"""The entrypoint as each CI platform runs it, against the simulator over real sockets (contract-checked)."""

from __future__ import annotations

import itertools
import json
import signal
import uuid
from collections import deque
from pathlib import Path

import pytest
from support.inputs import inputs, job_inputs
from support.runner_files import outside_code_spans
from support.sims import TOKEN, SimFactory, job
from support.step import github_env, gitlab_env, plain_env, platform_env, run_step

from qovery_job_deploy.simulator import Fault, QoverySimulator

# -- GitHub Actions ---------------------------------------------------------------------------------


def test_github_success_writes_outputs_summary_and_masks_first(simulator: SimFactory, tmp_path: Path) -> None:
    script = job(stale_seconds=0.3)
    sim = simulator(script)
    env, files = github_env(tmp_path, job_inputs(sim, script))
    run = run_step(env, files)

    assert run.code == 0, run.stderr
    assert run.stdout.splitlines()[0] == f"::add-mask::{TOKEN}"
    outputs = run.outputs()
    (ours,) = sim.deployments_of(script.job_id)
    assert outputs["state"] == "DEPLOYED"
    assert outputs["verdict"] == "succeeded"
    assert outputs["deployment-request-id"] == ours.id
    assert outputs["execution-id"] == ours.execution_id
    assert outputs["service-deployment-status"] == "UP_TO_DATE"
    assert int(outputs["duration-seconds"]) >= 0
    result = json.loads(outputs["result"])
    assert result["job_id"] == script.job_id and result["deployment_request_id"] == ours.id
    summary = run.summary()
    assert "✅" in summary and "DEPLOYED" in summary and ours.id in summary
    assert "| `EXECUTING` | `SUCCESS` |" in summary  # the steps table from status.steps.details
    assert "::error" not in run.stdout


def test_github_failure_exits_1_with_error_annotation(simulator: SimFactory, tmp_path: Path) -> None:
    script = job((0.0, "QUEUED"), (0.3, "EXECUTING"), (0.8, "DEPLOYMENT_ERROR"))
    sim = simulator(script)
    env, files = github_env(tmp_path, job_inputs(sim, script))
    run = run_step(env, files)

    assert run.code == 1, run.stderr
    assert run.outputs()["state"] == "DEPLOYMENT_ERROR"
    assert "::error title=Qovery job deployment failed (DEPLOYMENT_ERROR)::" in run.stdout
    assert "❌" in run.summary()


@pytest.mark.parametrize("platform", ["github", "gitlab", "plain"])
def test_the_verdict_is_said_once_in_the_log(simulator: SimFactory, tmp_path: Path, platform: str) -> None:
    """On GitHub the error annotation is the last word (the runner shows it in the log); elsewhere a line."""
    script = job((0.0, "QUEUED"), (0.2, "EXECUTING"), (60.0, "DEPLOYED"))
    sim = simulator(script)
    values = job_inputs(sim, script)
    values["timeout"] = "2s"
    env, files = platform_env(platform, tmp_path, values)
    run = run_step(env, files)

    assert run.code == 124, run.stderr
    # The human log: stderr, and GitHub's commands on stdout (elsewhere stdout holds the JSON result).
    commands = [line for line in run.stdout.splitlines() if line.startswith("::")]
    said = "\n".join([run.stderr, *commands]).count("Timed out with the deployment still in progress")
    assert said == 1
    annotated = "::error title=Qovery job deployment timed out (EXECUTING)::Timed out" in run.stdout
    assert annotated == (platform == "github")
    assert ("] timed_out: Timed out" in run.stderr) == (platform != "github")
    if platform != "github":  # the last word, after the console link and where the result was written
        assert "] timed_out: Timed out" in run.stderr.splitlines()[-1]


# -- docker run (QOVERY_* variables) ----------------------------------------------------------------


def test_docker_run_success_prints_only_json_on_stdout(simulator: SimFactory) -> None:
    script = job()
    sim = simulator(script)
    run = run_step(plain_env(job_inputs(sim, script)))

    assert run.code == 0, run.stderr
    result = run.json()  # stdout is exactly one JSON document
    assert result["state"] == "DEPLOYED" and result["verdict"] == "succeeded"
    assert result["deployment_request_id"] == sim.deployments_of(script.job_id)[0].id
    assert "DEPLOYED" in run.stderr and "EXECUTING" in run.stderr  # the human log went to stderr


def test_each_state_change_is_logged_once_with_elapsed_time(simulator: SimFactory) -> None:
    script = job((0.0, "QUEUED"), (0.4, "EXECUTING"), (1.2, "DEPLOYED"))
    sim = simulator(script)
    run = run_step(plain_env(job_inputs(sim, script)))

    state_lines = [line for line in run.stderr.splitlines() if line.endswith(("] EXECUTING", "] DEPLOYED"))]
    assert [line.split("] ")[1] for line in state_lines] == ["EXECUTING", "DEPLOYED"]
    assert all(line.startswith("[") and "s] " in line for line in state_lines)


# -- the verdict is about *our* deployment ----------------------------------------------------------


def test_stale_status_of_previous_success_does_not_pass_a_failing_deployment(simulator: SimFactory) -> None:
    """Right after the POST the job status still shows the previous request's DEPLOYED: not ours."""
    script = job((0.0, "QUEUED"), (0.3, "EXECUTING"), (0.9, "DEPLOYMENT_ERROR"), stale_seconds=0.7)
    sim = simulator(script)
    run = run_step(plain_env(job_inputs(sim, script)))

    assert run.code == 1, run.stderr
    assert run.json()["state"] == "DEPLOYMENT_ERROR"


@pytest.mark.parametrize(
    ("final", "expected_code"),
    [("DEPLOYED", 0), ("DEPLOYMENT_ERROR", 1)],
)
def test_newer_request_taking_over_the_status_keeps_our_verdict(
    simulator: SimFactory, final: str, expected_code: int
) -> None:
    """The moment ours ends a newer request owns the job status: the verdict comes from ours, per request."""
    script = job((0.0, "QUEUED"), (0.3, "EXECUTING"), (0.6, final), taken_over=True)
    sim = simulator(script)
    run = run_step(plain_env(job_inputs(sim, script, **{"poll-interval": "0.5s"})))

    assert run.code == expected_code, run.stderr
    assert run.json()["state"] == final
    assert run.json()["deployment_request_id"] == sim.deployments_of(script.job_id)[0].id
    assert sim.calls("request_status") >= 1


def test_unknown_state_from_a_newer_api_is_logged_once_and_waited_on(simulator: SimFactory) -> None:
    script = job((0.0, "QUEUED"), (0.2, "HIBERNATING"), (1.0, "DEPLOYED"))
    sim = simulator(script)
    sim.allowed_deviations = ("'HIBERNATING' is not one of",)
    run = run_step(plain_env(job_inputs(sim, script)))

    assert run.code == 0, run.stderr
    assert run.stderr.count("does not know (HIBERNATING)") == 1
    assert any("HIBERNATING" in error for error in sim.contract_errors)  # the deviation really was served


def test_image_tag_is_sent_in_the_body(simulator: SimFactory) -> None:
    script = job()
    sim = simulator(script)
    run = run_step(plain_env(job_inputs(sim, script, **{"image-tag": "v1.2.3"})))

    assert run.code == 0, run.stderr
    (deploy,) = [e for e in sim.exchanges if e.method == "POST"]
    assert json.loads(deploy.body) == {"image_tag": "v1.2.3"}


# -- exit codes ---------------------------------------------------------------------------------------


def test_timeout_exits_124_with_the_last_state(simulator: SimFactory) -> None:
    script = job((0.0, "QUEUED"), (0.2, "EXECUTING"), (60.0, "DEPLOYED"))
    sim = simulator(script)
    run = run_step(plain_env(job_inputs(sim, script, timeout="2s")))

    assert run.code == 124, run.stderr
    assert run.json()["verdict"] == "timed_out" and run.json()["state"] == "EXECUTING"
    assert run.seconds < 10  # generous: the point is that it did not wait for the 60 s deployment


def test_wait_false_exits_0_once_accepted_without_polling(simulator: SimFactory) -> None:
    script = job()
    sim = simulator(script)
    run = run_step(plain_env(job_inputs(sim, script, wait="false")))

    assert run.code == 0, run.stderr
    assert run.json()["verdict"] == "accepted"
    assert run.json()["deployment_request_id"] == sim.deployments_of(script.job_id)[0].id
    assert sim.calls("status") == 1  # the read before the POST only


def test_unauthorized_token_exits_3_naming_the_token_and_deploys_nothing(simulator: SimFactory) -> None:
    script = job()
    sim = simulator(script)
    bad = "not-a-qovery-token-but-still-secret"
    env = plain_env(job_inputs(sim, script)) | {"QOVERY_API_TOKEN": bad}
    run = run_step(env)

    assert run.code == 3, run.stderr
    assert "HTTP 401" in run.stderr and "from the environment variable QOVERY_API_TOKEN" in run.stderr
    assert sim.deployments_of(script.job_id) == []
    assert bad not in run.everything()


def test_unknown_job_exits_3_saying_what_to_check(simulator: SimFactory) -> None:
    sim = simulator(job())
    env = plain_env(inputs(job_id=str(uuid.uuid4()), api_url=sim.url))
    run = run_step(env)

    assert run.code == 3
    assert "HTTP 404" in run.stderr and "job-id" in run.stderr


def test_unreachable_api_exits_3_after_retries() -> None:
    env = plain_env(inputs(job_id=str(uuid.uuid4()), api_url="http://127.0.0.1:9", timeout="3s"))
    run = run_step(env)

    assert run.code == 3, run.stderr
    assert "retrying" in run.stderr and "127.0.0.1:9 refused the connection" in run.stderr
    assert run.json()["verdict"] == "error"


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_stops_promptly_and_reports_what_is_known(
    served_simulator: SimFactory, tmp_path: Path, signum: int, code: int
) -> None:
    script = job((0.0, "QUEUED"), (0.2, "EXECUTING"), (120.0, "DEPLOYED"))
    sim = served_simulator(script)
    env, files = github_env(tmp_path, job_inputs(sim, script, poll_interval="2s"))
    run = run_step(env, files, signal_when=lambda: sim.calls("status") >= 2, signum=signum)

    assert run.code == code, run.stderr
    assert run.seconds < 7.5  # inside GitHub's 7.5 s from SIGINT to SIGTERM, even on a loaded machine
    outputs = run.outputs()
    assert outputs["verdict"] == "cancelled"
    assert outputs["state"] == "EXECUTING"
    assert outputs["deployment-request-id"] == sim.deployments_of(script.job_id)[0].id
    # Without `cancel-on-abort` the deployment runs on: the message says so and names the input, and the
    # console link (built from what is known, no read after the signal) says where to watch it.
    message = json.loads(outputs["result"])["message"]
    assert "may still run in Qovery (`cancel-on-abort` cancels it" in message
    assert outputs["console-url"].endswith(
        f"/service/{script.job_id}/deployments/logs/{outputs['execution-id']}"
    )
    assert f"Qovery console: {outputs['console-url']}" in run.stderr


# -- HTTP faults ------------------------------------------------------------------------------------


def test_rate_limit_and_server_errors_on_status_reads_are_retried(simulator: SimFactory) -> None:
    script = job()
    script.faults["status"] = deque(
        [Fault(status=429, headers={"Retry-After": "1"}), Fault(status=503), Fault(status=502)]
    )
    sim = simulator(script)
    run = run_step(plain_env(job_inputs(sim, script)))

    assert run.code == 0, run.stderr
    assert "HTTP 429" in run.stderr and "retrying in 1.0s" in run.stderr
    assert len(sim.deployments_of(script.job_id)) == 1


@pytest.mark.parametrize("kind", ["http", "reset"])
def test_post_failing_after_qovery_acted_adopts_the_deployment_instead_of_posting_again(
    simulator: SimFactory, kind: str
) -> None:
    script = job(stale_seconds=0.0)
    script.faults["deploy"] = deque([Fault(kind=kind, status=502, acted=True)])
    sim = simulator(script)
    run = run_step(plain_env(job_inputs(sim, script)))

    assert run.code == 0, run.stderr
    assert sim.calls("deploy") == 1
    (ours,) = sim.deployments_of(script.job_id)
    assert run.json()["deployment_request_id"] == ours.id
    assert "adopting deployment request" in run.stderr


def test_a_gateway_503_that_never_reached_qovery_is_posted_again_once(simulator: SimFactory) -> None:
    script = job()
    script.faults["deploy"] = deque([Fault(status=503, acted=False)])
    sim = simulator(script)
    run = run_step(plain_env(job_inputs(sim, script)))

    assert run.code == 0, run.stderr
    assert sim.calls("deploy") == 2
    (ours,) = sim.deployments_of(script.job_id)  # exactly one deployment
    assert run.json()["deployment_request_id"] == ours.id
    assert "no deployment request was created; sending it again (attempt 2 of 4)" in run.stderr.lower()


def reads_after_the_end(sim: QoverySimulator, request_id: str) -> int:
    ended = sim.terminal_at[request_id]
    return sum(1 for e in sim.exchanges if e.method == "GET" and e.received_at > ended)


@pytest.mark.parametrize(
    ("final", "action", "words"),
    [
        ("READY", None, "ended in READY, expected DEPLOYED"),  # a settled state after a successful action
        ("HIBERNATING", "ERROR", "does not know ('HIBERNATING')"),  # unknown, after a failed action
        ("HIBERNATING", "SUCCESS", "does not know ('HIBERNATING')"),
        ("STOPPED", "SUCCESS", "ended in STOPPED, expected DEPLOYED"),
    ],
)
def test_a_deployment_settled_in_another_state_fails_at_once_not_at_the_timeout(
    simulator: SimFactory, final: str, action: str | None, words: str
) -> None:
    script = job((0.0, "QUEUED"), (0.3, "EXECUTING"), (0.8, final), final_action_status=action)
    sim = simulator(script)
    sim.allowed_deviations = (f"'{final}' is not one of",)
    run = run_step(plain_env(job_inputs(sim, script, timeout="10m")))

    assert run.code == 1, run.stderr
    assert run.json()["verdict"] == "failed" and run.json()["state"] == final
    assert words in run.json()["message"]
    (ours,) = sim.deployments_of(script.job_id)
    assert reads_after_the_end(sim, ours.id) <= 2  # noticed at the next read or so, within a poll interval


def test_post_rate_limited_is_retried_because_qovery_did_not_act(simulator: SimFactory) -> None:
    script = job()
    script.faults["deploy"] = deque([Fault(status=429, headers={"Retry-After": "0"})])
    sim = simulator(script)
    run = run_step(plain_env(job_inputs(sim, script)))

    assert run.code == 0, run.stderr
    assert sim.calls("deploy") == 2 and len(sim.deployments_of(script.job_id)) == 1


# -- invalid input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"job-id": "not-a-uuid"}, "job-id"),
        ({"api-token": ""}, "api-token"),
        ({"services": "container:api"}, "job-id"),  # job-id and services: one way at a time
        ({"services": "contaner:api"}, "services"),
        ({"force-event": "DIFF"}, "force-event"),  # for helm charts: job-id names a job
        ({"apply-immediately": "soon"}, "apply-immediately"),
        ({"force-event": "RESTART"}, "force-event"),
        ({"auth-scheme": "basic"}, "auth-scheme"),
        ({"timeout": "ten minutes"}, "timeout"),
        ({"wait": "perhaps"}, "wait"),
        ({"api-url": "http://api.example.com"}, "api-url"),
        ({"poll-interval": "1ms"}, "poll-interval"),
        ({"request-timeout": "never"}, "request-timeout"),
        ({"cancel-on-abort": "yes please"}, "cancel-on-abort"),
        ({"cancel-on-timeout": "2"}, "cancel-on-timeout"),
        ({"dotenv-file": "/"}, "dotenv-file"),
        ({"debug": "verbose"}, "debug"),
    ],
)
def test_invalid_input_exits_2_naming_it_and_sends_nothing(
    simulator: SimFactory, variables: dict[str, str], named: str
) -> None:
    script = job()
    sim = simulator(script)
    base = inputs(job_id=script.job_id, api_url=sim.url)
    run = run_step(plain_env(base | variables))

    assert run.code == 2, run.stderr
    assert f"`{named}`" in run.stderr and "Fix:" in run.stderr
    assert sim.exchanges == []


def test_a_job_never_deployed_before_is_followed_without_asking_for_history(simulator: SimFactory) -> None:
    script = job(previous_request_id=None, stale_seconds=0.3)
    sim = simulator(script)
    run = run_step(plain_env(job_inputs(sim, script)))

    assert run.code == 0, run.stderr
    assert "First deployment of this job" in run.stderr
    assert sim.calls("history") == 0


def status_reads_after_the_post(sim: QoverySimulator) -> list[float]:
    posted = next(e.received_at for e in sim.exchanges if e.method == "POST")
    return [
        e.received_at - posted for e in sim.exchanges if e.path.endswith("/status") and e.received_at > posted
    ]


@pytest.mark.parametrize(
    ("past", "options", "hint", "history_reads", "dense"),
    [
        # The status read before the POST tells how long the last run took: enough for a short job.
        ([2, 2, 2, 2], {}, "The last deployment took 2s", 0, True),
        # A long last run: the history's band is worth one request.
        ([40, 40, 41], {}, "Past deployments took 40-41s", 1, False),
        # Nothing in the status: a steady pace; the history waits until the deployment proves long.
        ([2, 2, 2, 2], {"omitted_fields": ("steps",)}, "Reading the status every 1s", 0, False),
    ],
)
def test_past_durations_pace_the_polling(
    simulator: SimFactory,
    past: list[int],
    options: dict[str, object],
    hint: str,
    history_reads: int,
    dense: bool,
) -> None:
    script = job((0.0, "QUEUED"), (0.3, "EXECUTING"), (2.0, "DEPLOYED"), past_durations=past, **options)
    sim = simulator(script)
    run = run_step(plain_env(job_inputs(sim, script, **{"poll-interval": "1s"})))

    assert run.code == 0, run.stderr
    assert hint in run.stderr
    assert sim.calls("history") == history_reads
    gaps = [later - earlier for earlier, later in itertools.pairwise(status_reads_after_the_post(sim))]
    assert (min(gaps, default=99.0) < 0.6) is dense  # three reads a second around the expected end, or one


def test_with_nothing_known_the_history_is_asked_once_the_deployment_proves_long(
    simulator: SimFactory,
) -> None:
    script = job(
        (0.0, "QUEUED"),
        (1.0, "EXECUTING"),
        (122.0, "DEPLOYED"),
        past_durations=[121, 122, 123],
        omitted_fields=("steps",),
    )
    sim = simulator(script)
    run = run_step(plain_env(job_inputs(sim, script)))

    assert run.code == 0, run.stderr
    (history,) = [e for e in sim.exchanges if e.path.endswith("/deploymentHistoryV2")]
    posted = next(e.received_at for e in sim.exchanges if e.method == "POST")
    assert 89.0 <= history.received_at - posted <= 93.0  # asked once it has run 90 s, not at once
    assert "Past deployments took 121-123s" in run.stderr


def test_hostile_strings_from_the_api_leave_every_output_file_valid(
    simulator: SimFactory, tmp_path: Path
) -> None:
    """Step names crafted to break the runner files: newlines, a heredoc delimiter, HTML, Markdown, a lone
    surrogate (valid JSON, unencodable UTF-8), a carriage return, ANSI escapes, and a long string."""
    hostile = [
        "line\nbreak",
        "ghadelimiter_00000000-0000-0000-0000-000000000000",
        "<img src=x onerror=alert(1)>",
        "| a | table |",
        "\ud800 lone surrogate",
        "carriage\rreturn",
        "\x1b[31mred\x1b[0m",
        "x" * 100_000,
    ]
    script = job(
        (0.0, "QUEUED"),
        (0.3, "\x1b[31mRED\x1b[0m\n::error::state"),  # reaches the log: states are logged
        (0.8, "DEPLOYED"),
        final_steps=[{"step_name": name, "status": "SUCCESS", "duration_sec": 1} for name in hostile],
    )
    script.extra_status_fields = {"execution_id": "exec\n::error::injected"}
    sim = simulator(script)
    sim.allowed_deviations = ("is not one of",)  # step names are an enum
    given = job_inputs(sim, script)
    env, files = github_env(tmp_path, given)
    env |= {"GITLAB_CI": "true", "CI_PROJECT_DIR": str(tmp_path)}  # GitHub wins; the dotenv is checked below
    github = run_step(env, files)

    assert github.code == 0, github.stderr
    outputs = github.outputs()  # parses by the runner's rules, or raises
    assert outputs["execution-id"] == "exec\n::error::injected"
    assert "::error" not in github.stdout  # no workflow command injected through the log
    assert not any(line.startswith("::") for line in github.stderr.splitlines())
    summary = github.summary()
    assert summary.count("| Step | Status | Duration |") == 1 and "<img" not in outside_code_spans(summary)
    assert len(summary.encode()) < 1024 * 1024

    gitlab_dir = tmp_path / "gitlab"
    gitlab_dir.mkdir()
    env, files = gitlab_env(gitlab_dir, given)
    gitlab = run_step(env, files)
    assert gitlab.code == 0, gitlab.stderr
    assert gitlab.dotenv()["QOVERY_EXECUTION_ID"] == "exec ::error::injected"
    result = gitlab.result_file()  # ASCII on one line, every character of the API escaped, none lost
    assert result["execution_id"] == "exec\n::error::injected"
    names = [step["step_name"] for step in result["steps"]]
    assert names[:-1] == [name.replace("\ud800", "?") for name in hostile[:-1]]  # as the client cleaned them
    assert "RED" in gitlab.stderr and "\x1b[31m" not in gitlab.stderr  # logged, without its ANSI codes


@pytest.mark.parametrize(
    ("given", "said", "summary_says", "key", "value"),
    [
        (
            {"image-tag": "v1.2.3"},
            "image tag v1.2.3",
            "image tag `v1.2.3`",
            "QOVERY_DEPLOYED_IMAGE_TAG",
            "v1.2.3",
        ),
        (
            {"git-commit-id": "0a1b2c3", "force-event": "start"},
            "commit 0a1b2c3 (force-event START)",
            "commit `0a1b2c3`, `force-event` `START`",
            "QOVERY_DEPLOYED_FORCE_EVENT",
            "START",
        ),
    ],
)
def test_the_report_says_what_was_deployed(
    simulator: SimFactory,
    tmp_path: Path,
    given: dict[str, str],
    said: str,
    summary_says: str,
    key: str,
    value: str,
) -> None:
    script = job(job_origin="git" if "git-commit-id" in given else "image")  # each takes its own value
    sim = simulator(script)
    values = job_inputs(sim, script) | given
    github, files = github_env(tmp_path, values)
    run = run_step(github, files)

    assert run.code == 0, run.stderr
    assert f"requesting a deployment of {said}" in run.stderr
    assert f"| Deployed | {summary_says} |" in run.summary()
    outputs = run.outputs()
    result = json.loads(outputs["result"])
    for name in ("image-tag", "git-commit-id", "force-event"):
        assert outputs[name] == (result[name.replace("-", "_")] or "")
    assert value in (outputs["image-tag"], outputs["force-event"])
    gitlab, gitlab_files = gitlab_env(tmp_path, values)
    assert run_step(gitlab, gitlab_files).dotenv()[key] == value
